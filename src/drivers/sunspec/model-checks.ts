// Checks on a model definition that the schema cannot express: names unique, sizes fit their types,
// every scale-factor and count reference reaches a point of the right type, variable groups only
// where a device's model length can tell their count, and the declared length equals the points.
import { POINT_NAME_RE } from '../../config/schema.js';
import { formatPath, type KeyPath } from '../../config/yaml-source.js';
import { typeWidth } from './codec-point.js';
import { groupSegment, sunspecPointName, type NameSegment } from './naming.js';
import { fixedSize, type GroupBody, type GroupDef, type ModelDef, type PointDef, type SunSpecType } from './types.js';

export interface Finding { path: KeyPath; message: string }

/** Types whose raw value a power of ten can scale. */
const SCALABLE: ReadonlySet<SunSpecType> = new Set([
  'int16', 'int32', 'int64', 'uint16', 'uint32', 'uint64', 'acc16', 'acc32', 'acc64', 'float32', 'float64',
]);
/** Types with named values: enum symbol → value, bitfield symbol → bit number. */
const BITFIELD_BITS: Partial<Record<SunSpecType, number>> = { bitfield16: 16, bitfield32: 32, bitfield64: 64 };
const ENUMS: ReadonlySet<SunSpecType> = new Set(['enum16', 'enum32']);

/** The points visible from a group: its own, then its parent's, out to the model's. Innermost first. */
type Scope = ReadonlyArray<ReadonlyMap<string, PointDef>>;

export function checkModel(model: ModelDef): Finding[] {
  const out: Finding[] = [];
  checkBody(model, [], [], out);
  const total = fixedSize(model);
  if (model.length !== total) {
    out.push({ path: ['length'], message: `is ${model.length}, but the points add up to ${total} registers` + variableNote(model) });
  }
  checkPublishedNames(model, out);
  return out;
}

function variableNote(model: ModelDef): string {
  return model.groups.some((g) => g.count.kind !== 'fixed') ? ' (variable groups counted zero times)' : '';
}

function checkBody(body: GroupBody, path: KeyPath, outer: Scope, out: Finding[]): void {
  const own = new Map<string, PointDef>();
  body.points.forEach((p, i) => {
    const first = own.get(p.name);
    if (first === undefined) own.set(p.name, p);
    else out.push({ path: [...path, 'points', i, 'name'], message: `duplicate point name ${p.name} in this group` });
  });
  const scope: Scope = [own, ...outer];
  body.points.forEach((p, i) => checkPoint(p, [...path, 'points', i], scope, out));

  const groupNames = new Set<string>();
  body.groups.forEach((g, i) => {
    const at: KeyPath = [...path, 'groups', i];
    if (groupNames.has(g.name)) out.push({ path: [...at, 'name'], message: `duplicate group name ${g.name} in this group` });
    groupNames.add(g.name);
    checkGroup(g, at, i === body.groups.length - 1, path.length === 0, scope, out);
    checkBody(g, at, scope, out);
  });
}

function checkPoint(p: PointDef, path: KeyPath, scope: Scope, out: Finding[]): void {
  const width = typeWidth(p.type);
  if (width !== undefined && p.size !== width) {
    out.push({ path: [...path, 'size'], message: `must be ${width} for type ${p.type}, not ${p.size}` });
  }
  if (p.sf !== undefined) {
    if (!SCALABLE.has(p.type)) out.push({ path: [...path, 'sf'], message: `a ${p.type} point cannot be scaled` });
    if (typeof p.sf === 'string') {
      const target = lookup(scope, p.sf);
      if (target === undefined) {
        out.push({ path: [...path, 'sf'], message: `no point ${p.sf} in this group or an enclosing one` });
      } else if (target.type !== 'sunssf') {
        out.push({ path: [...path, 'sf'], message: `${p.sf} is a ${target.type} point, not a sunssf` });
      }
    }
  }
  if (p.symbols !== undefined) {
    const bits = BITFIELD_BITS[p.type];
    if (bits === undefined && !ENUMS.has(p.type)) {
      out.push({ path: [...path, 'symbols'], message: `apply to enum and bitfield types, not ${p.type}` });
    } else if (bits !== undefined) {
      for (const [symbol, bit] of Object.entries(p.symbols)) {
        if (bit < 0 || bit >= bits) out.push({ path: [...path, 'symbols', symbol], message: `bit must be 0..${bits - 1}, not ${bit}` });
      }
    }
  }
}

function checkGroup(g: GroupDef, path: KeyPath, isLast: boolean, isTopLevel: boolean, scope: Scope, out: Finding[]): void {
  if (g.points.length === 0 && g.groups.length === 0) out.push({ path: [...path, 'name'], message: 'an empty group' });
  if (g.count.kind === 'fill' && !(isTopLevel && isLast)) {
    // Only the model's length can tell how many instances fill it: one such group, at the very end.
    out.push({ path: [...path, 'count'], message: 'fill is allowed only on the last group of the model' });
  }
  if (g.count.kind === 'fill' && hasVariableGroups(g)) {
    // The instance size must be known to tell how many instances fill the rest of the length.
    out.push({ path: [...path, 'count'], message: 'a fill group cannot hold groups of variable count' });
  }
  if (g.count.kind === 'point') {
    const target = lookup(scope, g.count.point);
    if (target === undefined) {
      out.push({ path: [...path, 'countPoint'], message: `no point ${g.count.point} in the enclosing groups` });
    } else if (target.type !== 'count' && target.type !== 'uint16') {
      out.push({ path: [...path, 'countPoint'], message: `${g.count.point} is a ${target.type} point, not a count` });
    }
  }
}

function hasVariableGroups(body: GroupBody): boolean {
  return body.groups.some((g) => g.count.kind !== 'fixed' || hasVariableGroups(g));
}

function lookup(scope: Scope, name: string): PointDef | undefined {
  for (const points of scope) {
    const p = points.get(name);
    if (p !== undefined) return p;
  }
  return undefined;
}

/** Published names (repeating groups at instance 1) must be unique in the model and valid point names. */
function checkPublishedNames(model: ModelDef, out: Finding[]): void {
  const seen = new Map<string, { at: KeyPath; group: KeyPath }>();
  const visit = (body: GroupBody, path: KeyPath, segments: NameSegment[]): void => {
    body.points.forEach((p, i) => {
      const name = sunspecPointName(model.id, segments, p.name);
      const at: KeyPath = [...path, 'points', i, 'name'];
      const other = seen.get(name);
      if (other === undefined) seen.set(name, { at, group: path });
      // The same name twice in one group is reported as a duplicate already.
      else if (formatPath(other.group) !== formatPath(path)) {
        out.push({ path: at, message: `published name ${name} is also the name of the point at ${formatPath(other.at)}` });
      }
      if (!POINT_NAME_RE.test(name)) out.push({ path: at, message: `published name ${name} is not a valid point name` });
    });
    body.groups.forEach((g, i) => visit(g, [...path, 'groups', i], [...segments, groupSegment(g, 1)]));
  };
  visit(model, [], []);
}
