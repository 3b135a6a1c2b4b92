// The strict schema of one sunspec/models/model-<id>.yaml file. Unknown keys are errors (a typo in a
// data file must not silently drop a fact); keys with a default (access R, mandatory false, count 1)
// may be left out. What the schema cannot express is checked in model-checks.ts.
import * as z from 'zod';
import { SUNSPEC_TYPES } from './types.js';

type Issue = { input?: unknown };
/** `message` for a wrong value, `required` for a missing one. */
const err = (message: string) => ({ error: (iss: Issue) => (iss.input === undefined ? 'required' : message) });

/** SunSpec point and group names: an identifier (the published name is built from them). */
export const SUNSPEC_NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
const nameText = 'a name matching [A-Za-z][A-Za-z0-9_]{0,47}';
const sunspecName = () => z.string(err(`must be ${nameText}`)).regex(SUNSPEC_NAME_RE, { error: `must be ${nameText}` });
const text = () => z.string(err('must be a string')).min(1, { error: 'must not be empty' });
const intIn = (lo: number, hi: number) => {
  const m = err(`must be an integer from ${lo} to ${hi}`);
  return z.int(m).min(lo, m).max(hi, m);
};
const bool = () => z.boolean(err('must be true or false'));
const list = <T extends z.ZodType>(item: T) => z.array(item, err('must be a list'));
const map = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, err('must be a map'));

/** SunSpec scale factors are powers of ten from -10 to 10. */
export const SF_MIN = -10;
export const SF_MAX = 10;

/** Longest point, in registers: what one Modbus read can carry. */
const MAX_POINT_REGISTERS = 125;

export const pointDefSchema = map({
  name: sunspecName(),
  type: z.enum(SUNSPEC_TYPES, err(`must be one of ${SUNSPEC_TYPES.join(', ')}`)),
  size: intIn(1, MAX_POINT_REGISTERS),
  sf: z.union([sunspecName(), intIn(SF_MIN, SF_MAX)], err(`must be the name of a sunssf point or an integer from ${SF_MIN} to ${SF_MAX}`)).optional(),
  units: text().optional(),
  access: z.enum(['R', 'RW'], err('must be R or RW')).optional(),
  mandatory: bool().optional(),
  label: text().optional(),
  symbols: z.record(z.string(), z.int(err('must be an integer')), err('must be a map of symbol: integer')).optional(),
});
export type RawPointDef = z.infer<typeof pointDefSchema>;

export interface RawGroupDef {
  name: string;
  label?: string | undefined;
  count?: 'fill' | number | undefined;
  countPoint?: string | undefined;
  sync?: boolean | undefined;
  points?: RawPointDef[] | undefined;
  groups?: RawGroupDef[] | undefined;
}

// Nested groups make the schema recursive: the getter defers the reference until it is used.
export const groupDefSchema: z.ZodType<RawGroupDef> = map({
  name: sunspecName(),
  label: text().optional(),
  // fill: as many times as fit in the rest of the model; an integer: that many times (default 1).
  count: z.union([z.literal('fill'), intIn(1, 65535)], err('must be fill or an integer from 1 to 65535')).optional(),
  // The name of a `count` point (in this group's parent or further out) holding the number of instances.
  countPoint: sunspecName().optional(),
  sync: bool().optional(),
  points: list(pointDefSchema).optional(),
  get groups() {
    return list(groupDefSchema).optional();
  },
});

export const modelFileSchema = map({
  id: intIn(1, 65534),
  name: sunspecName(),
  label: text().optional(),
  length: intIn(0, 65535),
  points: list(pointDefSchema),
  groups: list(groupDefSchema).optional(),
});
export type RawModelFile = z.infer<typeof modelFileSchema>;
