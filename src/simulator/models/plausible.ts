// A fixed, plausible starting value for any point, so that a device without a known model (meters,
// "other", extra points) serves something an operator would believe: by unit, else from min/max.
import type { PointConfig, PointValue } from '../../config/types.js';

/** Typical magnitudes by unit (lower case), in that unit. */
const BY_UNIT: Readonly<Record<string, number>> = {
  v: 230,
  kv: 20,
  a: 5,
  w: 1500,
  kw: 1.5,
  mw: 0.5,
  var: 100,
  kvar: 0.1,
  va: 1500,
  kva: 1.5,
  wh: 123456,
  kwh: 123.456,
  mwh: 1.234,
  hz: 50,
  '%': 50,
  '°c': 25,
  c: 25,
  degc: 25,
  'm/s': 7,
  rpm: 12,
  '°': 45,
  deg: 45,
  s: 60,
  ah: 100,
  pf: 0.98,
};

/** `scaleFactorPoints` are the names other points use as their `scaleFactor`: those hold 0 (10^0). */
export function plausibleValue(p: PointConfig, deviceId: string, scaleFactorPoints: ReadonlySet<string>): PointValue {
  if (p.type === 'bool') return p.access !== 'read'; // switches on, alarms and flags off
  if (p.type === 'string') return `SIM-${deviceId}`.slice(0, (p.length ?? 1) * 2);
  if (scaleFactorPoints.has(p.name)) return 0;
  if (p.min !== undefined && p.max !== undefined) return (p.min + p.max) / 2;
  const typical = p.unit === undefined ? undefined : BY_UNIT[p.unit.toLowerCase()];
  const value = typical ?? 100 * p.scale + p.offset;
  if (p.min !== undefined && value < p.min) return p.min;
  if (p.max !== undefined && value > p.max) return p.max;
  return value;
}
