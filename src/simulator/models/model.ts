// What a device model (the physics of one kind of device) sees and does. Models work in engineering
// values keyed by the profile's point names; a name the device does not have is simply skipped, so a
// model fits any device whose points use those names, whatever their registers.
import type { PointConfig, PointValue } from '../../config/types.js';

export interface PointIO {
  has(name: string): boolean;
  point(name: string): PointConfig | undefined;
  /** The current value as a number (booleans as 1/0); undefined when the device has no such point or it is a string. */
  num(name: string): number | undefined;
  bool(name: string): boolean | undefined;
  /** Sets an output. Ignored when the device has no such point, or when a test has pinned it. */
  set(name: string, value: PointValue): void;
}

export interface StepTime {
  /** Wall clock, ms since the epoch (the injected clock). */
  nowMs: number;
  /** Wall time since the previous step, ms; 0 when re-evaluating right after a write. */
  dtMs: number;
  /** Simulated hours elapsed since the previous step (wall time times the day compression). */
  simDtH: number;
  /** Position in the compressed simulated day, 0..1 (0 = midnight, 0.5 = noon). */
  dayFraction: number;
}

export interface DeviceModel {
  /** Initial values of the points the model knows (setpoints, counters, serial numbers). */
  init(io: PointIO, t: StepTime): void;
  /** Recomputes outputs from setpoints and time, integrating counters over `t.simDtH`. */
  step(io: PointIO, t: StepTime): void;
  /** A client has just written `names` (their values are stored; `step` follows at once). For device-side timers. */
  written?(io: PointIO, names: ReadonlySet<string>, t: StepTime): void;
  /** Stops the model's own timers (the site closes). */
  close?(): void;
}

export function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}

/** First-order lag: moves `current` toward `target` with time constant `tauMs` over `dtMs`. */
export function lag(current: number, target: number, dtMs: number, tauMs: number): number {
  return current + (target - current) * (1 - Math.exp(-dtMs / tauMs));
}

/** Moves `current` toward `target` by at most `maxStep` (a rate-limited ramp). */
export function ramp(current: number, target: number, maxStep: number): number {
  if (Math.abs(target - current) <= maxStep) return target;
  return current + Math.sign(target - current) * maxStep;
}
