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

/** What a device does by itself with a point nobody controls (CONTRACT.md section 7), as the driver knows it. */
export interface DriverFallback {
  /** The value the point returns to (a SunSpec control: 100, switched off). */
  value: PointValue;
  /** The device's own revert timer, s. */
  revertSeconds: number;
}

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
  /**
   * Held setpoints (CONTRACT.md section 7) of points whose fallback the device itself describes
   * (SunSpec controls; a register-map profile says it in its config instead): the fallback, a write
   * that programs the device's revert timer with the value, and the release to the fallback.
   */
  fallbackOf?(point: string): DriverFallback | undefined;
  writeHeld?(point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: ReadValue }>;
  releaseHeld?(point: string, guard: () => boolean): Promise<{ readBack: ReadValue }>;
  /** Counters for metrics, health and the benchmark. */
  stats(): DeviceDriverStats;
}
