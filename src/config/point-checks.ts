// Checks on points that the schema cannot express: one point on its own (type fits table, limits of
// writable points, …) and a set of points together (names, overlaps, scale-factor references).
// Used for a profile on its own and for a device's points after its profile is merged in.
import type { RawPoint } from './schema.js';
import { pointWidth } from './point-width.js';
import type { KeyPath } from './yaml-source.js';

export interface Finding { path: KeyPath; message: string }

/**
 * A point and where it came from. A point of the config file has the path of its map; a profile
 * point seen from a device has the device's `profile` key as its path (the line an operator can
 * act on) and says which profile it is in its label.
 */
export interface LocatedPoint {
  point: RawPoint;
  path: KeyPath;
  /** Set when the point comes from a profile while checking a device. */
  profile?: string;
}

const at = (lp: LocatedPoint, key: keyof RawPoint): KeyPath => (lp.profile === undefined ? [...lp.path, key] : lp.path);
const label = (lp: LocatedPoint): string =>
  lp.profile === undefined ? `point '${lp.point.name}'` : `point '${lp.point.name}' of profile ${lp.profile}`;
/** Prefix for a message about a profile point reported at the device's `profile` key. */
const about = (lp: LocatedPoint): string => (lp.profile === undefined ? '' : `${label(lp)}: `);

const isNumeric = (p: RawPoint): boolean => p.type !== 'bool' && p.type !== 'string';
const isWritable = (p: RawPoint): boolean => (p.access ?? 'read') !== 'read';

// Raw value ranges of the integer types, for checking that a writable point's limits can be sent.
const RAW_RANGE: Partial<Record<RawPoint['type'], [number, number]>> = {
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-(2 ** 63), 2 ** 63 - 1],
  uint64: [0, 2 ** 64 - 1],
};

/** Problems of one point by itself. */
export function checkPoint(lp: LocatedPoint): Finding[] {
  const p = lp.point;
  const out: Finding[] = [];
  const add = (key: keyof RawPoint, message: string): void => {
    out.push({ path: at(lp, key), message: about(lp) + message });
  };
  const table = p.table ?? 'holding';
  const bitTable = table === 'coil' || table === 'discrete';

  if (bitTable && p.type !== 'bool') {
    add('type', `${p.type} does not fit table ${table}: coils and discrete inputs hold single bits (type bool)`);
  }
  if (p.bit !== undefined) {
    if (bitTable) add('bit', 'applies only to holding and input registers');
    else if (p.type !== 'bool') add('bit', `needs type bool, not ${p.type}`);
  }
  if (p.type === 'string' && p.length === undefined) add('length', 'required for type string');
  if (p.type !== 'string' && p.length !== undefined) add('length', 'applies only to type string');

  const registers = pointWidth(p);
  if (p.address + registers - 1 > 65535) {
    add('address', `runs past address 65535 (${registers} registers from ${p.address})`);
  }

  if (isWritable(p) && table === 'input') add('access', 'input registers are read-only: use table holding');
  if (isWritable(p) && table === 'discrete') add('access', 'discrete inputs are read-only: use table coil');

  if (isNumeric(p)) {
    if (isWritable(p) && p.min === undefined) add('min', 'required for a writable numeric point');
    if (isWritable(p) && p.max === undefined) add('max', 'required for a writable numeric point');
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) add('min', `must not be greater than max (${p.max})`);
    if (isWritable(p) && p.scaleFactor === undefined) checkLimitsFitRaw(p, add);
  } else {
    for (const key of ['min', 'max', 'scale', 'offset', 'scaleFactor', 'deadband'] as const) {
      if (p[key] !== undefined) add(key, `applies only to numeric points, not ${p.type}`);
    }
  }
  return out;
}

function checkLimitsFitRaw(p: RawPoint, add: (key: 'min' | 'max', message: string) => void): void {
  const range = RAW_RANGE[p.type];
  if (range === undefined) return;
  const scale = p.scale ?? 1;
  const offset = p.offset ?? 0;
  for (const key of ['min', 'max'] as const) {
    const v = p[key];
    if (v === undefined) continue;
    const raw = Math.round((v - offset) / scale);
    if (raw < range[0] || raw > range[1]) {
      add(key, `${v} does not fit the point: raw value ${raw} is outside ${p.type} (${range[0]} to ${range[1]})`);
    }
  }
}

/** Problems of a set of points that belong together (one device, or one profile). */
export function checkPointSet(points: readonly LocatedPoint[], owner: 'device' | 'profile'): Finding[] {
  return [...checkOverlaps(points), ...checkScaleFactors(points, owner)];
}

/** Duplicate names inside one list of points (a device's `points`, or a profile's). */
export function checkDuplicateNames(points: readonly LocatedPoint[]): Finding[] {
  const first = new Map<string, LocatedPoint>();
  const out: Finding[] = [];
  for (const lp of points) {
    const earlier = first.get(lp.point.name);
    if (earlier === undefined) first.set(lp.point.name, lp);
    else out.push({ path: at(lp, 'name'), message: `duplicate point name '${lp.point.name}' (also at ${formatShort(earlier.path)})` });
  }
  return out;
}

function formatShort(path: KeyPath): string {
  // The tail `points[3]` is enough to find the twin in the same list.
  const i = path.lastIndexOf('points');
  const tail = i >= 0 ? path.slice(i) : path;
  return tail.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('').replace(/^\./, '');
}

interface Span { lp: LocatedPoint; table: string; from: number; to: number }

function checkOverlaps(points: readonly LocatedPoint[]): Finding[] {
  const spans: Span[] = points.map((lp) => {
    const from = lp.point.address;
    return { lp, table: lp.point.table ?? 'holding', from, to: from + pointWidth(lp.point) - 1 };
  });
  // Stable order so that the later point (by address, then by listing) is the one reported.
  spans.sort((a, b) => a.table.localeCompare(b.table) || a.from - b.from);
  const out: Finding[] = [];
  for (let i = 0; i < spans.length; i++) {
    const a = spans[i];
    if (a === undefined) continue;
    for (let j = i + 1; j < spans.length; j++) {
      const b = spans[j];
      if (b === undefined || b.table !== a.table || b.from > a.to) break;
      if (sharesBits(a.lp.point, b.lp.point)) continue;
      // Report at a point of the config file when one of the two is from there.
      const [here, other] = b.lp.profile === undefined || a.lp.profile !== undefined ? [b, a] : [a, b];
      out.push({
        path: at(here.lp, 'address'),
        message: `${about(here.lp)}overlaps ${label(other.lp)} (${other.table} ${range(other)})`,
      });
    }
  }
  return out;
}

const range = (s: Span): string => (s.from === s.to ? `${s.from}` : `${s.from}..${s.to}`);

/** Two bools from different bits of one register do not overlap. */
function sharesBits(a: RawPoint, b: RawPoint): boolean {
  return a.bit !== undefined && b.bit !== undefined && a.bit !== b.bit && a.address === b.address;
}

function checkScaleFactors(points: readonly LocatedPoint[], owner: 'device' | 'profile'): Finding[] {
  const byName = new Map(points.map((lp) => [lp.point.name, lp]));
  const out: Finding[] = [];
  for (const lp of points) {
    const sf = lp.point.scaleFactor;
    if (sf === undefined) continue;
    const target = byName.get(sf);
    const say = (message: string): void => {
      out.push({ path: at(lp, 'scaleFactor'), message: about(lp) + message });
    };
    if (target === undefined) say(`no point '${sf}' in this ${owner}`);
    else if (target === lp) say('a point cannot be its own scale factor');
    else if (target.point.type !== 'int16') say(`point '${sf}' is ${target.point.type}; a scale factor must be int16`);
  }
  return out;
}
