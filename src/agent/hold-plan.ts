// How a point of a device is held (CONTRACT.md section 7), whatever kind of device it is: a point
// whose config (its profile or the device's own points) has a `fallback`, or a control whose device
// describes its own fallback (a SunSpec control: Driver.fallbackOf). Also which registers the holder
// keeps written itself (revert timers, the watchdog), which therefore take no commands.
import type { DeviceConfig, PointConfig, PointValue } from '../config/types.js';
import type { Driver } from '../drivers/driver.js';

export type HoldPlan =
  | {
      /** A config point: the holder writes its revert timer (where it differs) and the value itself. */
      kind: 'config';
      point: PointConfig;
      fallback: PointValue;
      /** The device's timer register and the window, s; null: kept by the device's watchdog. */
      timer: { point: PointConfig; seconds: number } | null;
      /** The device falls back this long after the last write, ms; null: the watchdog's window. */
      windowMs: number | null;
    }
  | {
      /** A control the driver holds by its own recipe (Driver.writeHeld / releaseHeld). */
      kind: 'driver';
      fallback: PointValue;
      windowMs: number;
    };

/** The plan of `point` on `device`, or undefined when a command on it is a one-shot write. */
export function holdPlanOf(device: DeviceConfig, driver: Driver | undefined, point: string): HoldPlan | undefined {
  const p = device.points.find((x) => x.name === point);
  if (p !== undefined) {
    const f = p.fallback;
    if (f === undefined) return undefined;
    const timerPoint = f.revertTimer === undefined ? undefined : device.points.find((x) => x.name === f.revertTimer?.point);
    // The config checks make a named timer exist; a plan without one falls back on the watchdog.
    const timer = timerPoint === undefined || f.revertTimer === undefined ? null : { point: timerPoint, seconds: f.revertTimer.seconds };
    return { kind: 'config', point: p, fallback: f.value, timer, windowMs: timer === null ? null : timer.seconds * 1000 };
  }
  const own = driver?.fallbackOf?.(point);
  return own === undefined ? undefined : { kind: 'driver', fallback: own.value, windowMs: own.revertSeconds * 1000 };
}

/**
 * Registers of `device` that the holder keeps written itself, with what they serve: the revert
 * timers of its held points and its watchdog register.
 */
export function keptRegisters(device: DeviceConfig): Map<string, string> {
  const kept = new Map<string, string>();
  for (const p of device.points) {
    const timer = p.fallback?.revertTimer?.point;
    if (timer !== undefined) kept.set(timer, `the revert timer of ${p.name}`);
  }
  if (device.watchdog !== undefined) kept.set(device.watchdog.point, 'the watchdog register');
  return kept;
}
