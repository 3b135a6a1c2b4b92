// A SunSpec model definition as the rest of the program sees it once sunspec/models/*.yaml has been
// loaded and checked (models.ts). Facts of the published specification only: names, types, sizes in
// registers, scale-factor references, access, groups. Addresses are not here: they depend on where
// a device puts the model and how long it says it is (layout.ts).

/** Point types of the SunSpec information model specification. */
export const SUNSPEC_TYPES = [
  'int16', 'int32', 'int64',
  'uint16', 'uint32', 'uint64', 'raw16',
  'acc16', 'acc32', 'acc64',
  'enum16', 'enum32',
  'bitfield16', 'bitfield32', 'bitfield64',
  'float32', 'float64',
  'sunssf', 'count', 'pad', 'string',
  'ipaddr', 'ipv6addr', 'eui48',
] as const;
export type SunSpecType = (typeof SUNSPEC_TYPES)[number];

/** SunSpec access: read-only or read-write. */
export type SunSpecAccess = 'R' | 'RW';

export interface PointDef {
  readonly name: string;
  readonly type: SunSpecType;
  /** Registers the point occupies. */
  readonly size: number;
  /**
   * Scale factor: the name of a `sunssf` point in the point's own group or an enclosing one, or a
   * literal power-of-ten exponent. The engineering value is raw × 10^sf.
   */
  readonly sf?: string | number;
  /** As the specification writes them: `W`, `A`, `Pct`, `Secs`, `C`, `% WMax`, ... */
  readonly units?: string;
  readonly access: SunSpecAccess;
  /** A device implementing the model must implement the point (it may still answer "not implemented" for optional ones). */
  readonly mandatory: boolean;
  readonly label?: string;
  /** enum: symbol → value; bitfield: symbol → bit number (0 = least significant). */
  readonly symbols?: Readonly<Record<string, number>>;
}

/**
 * How many times a group occurs: a fixed number (1 = not repeating), the value of a `count` point
 * read from the device, or as many times as fit in the rest of the model's length.
 */
export type GroupCount =
  | { readonly kind: 'fixed'; readonly count: number }
  | { readonly kind: 'point'; readonly point: string }
  | { readonly kind: 'fill' };

/** Points first, then nested groups, in register order: the layout of a SunSpec group. */
export interface GroupBody {
  readonly points: readonly PointDef[];
  readonly groups: readonly GroupDef[];
}

export interface GroupDef extends GroupBody {
  readonly name: string;
  readonly label?: string;
  readonly count: GroupCount;
  /** The specification's "sync" group: its points are meant to be written together, in one request. */
  readonly sync: boolean;
}

export interface ModelDef extends GroupBody {
  readonly id: number;
  /** The specification's name of the model's top-level group, e.g. `inverter_three_phase`. */
  readonly name: string;
  readonly label?: string;
  /**
   * The model length L (registers after the ID and L registers) with every variable group (count
   * point or fill) present zero times; for a model without such groups, the L a device reports.
   */
  readonly length: number;
  /** The definition file, for messages. */
  readonly file: string;
}

/** Whether points of the group get an instance number in their names (CONTRACT.md section 6). */
export function isRepeating(group: GroupDef): boolean {
  return !(group.count.kind === 'fixed' && group.count.count === 1);
}

/** Registers of one instance of a group body, nested groups counted as their fixed count (variable ones: 0). */
export function fixedSize(body: GroupBody): number {
  let size = 0;
  for (const p of body.points) size += p.size;
  for (const g of body.groups) size += g.count.kind === 'fixed' ? g.count.count * fixedSize(g) : 0;
  return size;
}

/** Whether laying the body out needs the device's registers: a group counted by a count point, at any depth. */
export function countedByPoint(body: GroupBody): boolean {
  return body.groups.some((g) => g.count.kind === 'point' || countedByPoint(g));
}
