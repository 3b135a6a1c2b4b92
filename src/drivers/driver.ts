// What the agent needs of a device driver, whatever kind: a register-map profile
// (device/device-driver.ts) or a device that describes itself (sunspec/sunspec-driver.ts).
import type { PointConfig, PointValue } from '../config/types.js';
import type { DeviceDriverStats } from './device/device-driver.js';

/** A value as a driver reads it: null where the device says it does not implement the point (SunSpec). */
export type ReadValue = PointValue | null;

/**
 * Whether a point the config does not list can be written on this device: the point to check a
 * command's value against (type, min..max), or why not.
 */
export type ControlDescription = { ok: true; point: PointConfig } | { ok: false; reason: string };

export interface Driver {
  readonly id: string;
  /** Values of every readable point, by name. Throws a typed driver error. */
  poll(): Promise<Record<string, ReadValue>>;
  /**
   * Writes one point. `guard` is called inside the bus queue right before each write goes on the
   * wire; false => GateClosedError and nothing (more) is sent.
   */
  write(point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: ReadValue }>;
  /**
   * For a point that is not in the device's config: what the driver knows of it (SunSpec controls,
   * from the models discovered). Undefined when the driver knows nothing of that name.
   */
  describeControl?(point: string): ControlDescription | undefined;
  /** Counters for metrics, health and the benchmark. */
  stats(): DeviceDriverStats;
}
