// What one simulated device serves before any physics run: its points (addresses, types, access),
// their initial values, raw registers that belong to no value, and the physics that move them.
// A device with a profile from profiles/ (or its own points) serves its config's points with
// plausible starting values; a `profile: sunspec` device serves a SunSpec register image.
import type { Logger } from 'pino';
import type { DeviceConfig, PointConfig, PointValue } from '../config/types.js';
import type { DeviceModel } from './models/model.js';
import { plausibleValue } from './models/plausible.js';
import { createModel } from './models/select.js';
import type { Random } from './random.js';
import { isSunSpecDevice } from './sunspec/device-spec.js';
import type { TimerClock } from './revert-timer.js';
import { sunspecDeviceImage } from './sunspec/sunspec-device.js';

export interface DeviceImage {
  points: readonly PointConfig[];
  /** Initial engineering values by point name; a point without one keeps its raw registers. */
  values: ReadonlyMap<string, PointValue>;
  /** Holding registers written once at the start (e.g. SunSpec "not implemented" values). */
  registers: ReadonlyArray<{ address: number; values: number[] }>;
  model: DeviceModel;
}

export interface ImageDeps {
  random: Random;
  timers: TimerClock;
  wake: () => void;
  /** Output ramp of models that have one, % of the rating per second; 0 = outputs jump. */
  rampPctPerS: number;
  logger: Logger;
}

export function deviceImage(config: DeviceConfig, deps: ImageDeps): DeviceImage {
  if (isSunSpecDevice(config)) return sunspecDeviceImage(config, deps);
  const scaleFactors = new Set(config.points.flatMap((p) => (p.scaleFactor === undefined ? [] : [p.scaleFactor])));
  return {
    points: config.points,
    values: new Map(config.points.map((p) => [p.name, plausibleValue(p, config.id, scaleFactors)])),
    registers: [],
    model: createModel(config, deps.random, deps),
  };
}
