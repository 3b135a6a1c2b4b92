// A device's points: its profile's points, each replaced whole by a device point of the same name,
// then the device's other points in the order written.
import type { LocatedPoint } from './point-checks.js';
import type { RawDevice, RawPoint } from './schema.js';
import type { KeyPath } from './yaml-source.js';

export function mergePoints(
  devicePath: KeyPath,
  device: RawDevice,
  profile: { name: string; points: readonly RawPoint[] } | undefined,
): LocatedPoint[] {
  const own: LocatedPoint[] = (device.points ?? []).map((point, j) => ({ point, path: [...devicePath, 'points', j] }));
  const ownByName = new Map<string, LocatedPoint>();
  for (const lp of own) if (!ownByName.has(lp.point.name)) ownByName.set(lp.point.name, lp);
  const merged: LocatedPoint[] = [];
  const used = new Set<LocatedPoint>();
  for (const point of profile?.points ?? []) {
    const override = ownByName.get(point.name);
    if (override === undefined) {
      merged.push({ point, path: [...devicePath, 'profile'], profile: profile?.name ?? '' });
    } else {
      merged.push(override);
      used.add(override);
    }
  }
  // Points with a duplicate name are reported by the checks; keep only the first of each name.
  for (const lp of own) if (!used.has(lp) && ownByName.get(lp.point.name) === lp) merged.push(lp);
  return merged;
}
