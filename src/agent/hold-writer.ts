// HoldWriter: every write of a held point (CONTRACT.md section 7) goes through here: a command's, the
// takeover's re-assertion, the keeper's refreshes and drift corrections, a release, the watchdog.
// One at a time per device, so that a refresh that read the held value before a command cannot land
// after it. A held config point is written as: its revert timer register where the device (as last
// polled) holds another value than the configured seconds, then the value, so that the value lands
// with the timer already set; a control the driver holds itself goes by Driver.writeHeld. Every write
// passes `guard` down to the bus, which asks it right before the bytes go out.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { DeviceConfig, PointValue } from '../config/types.js';
import type { Driver, ReadValue } from '../drivers/driver.js';
import { holdPlanOf, type HoldPlan } from './hold-plan.js';

/** What is known of the writes of one held point (or a watchdog register). */
export interface WriteHistory {
  /** Monotonic ms the last write began: the refresh schedule counts from here. */
  startedMonoMs: number;
  /** Monotonic ms it ended (ok or not); below startedMonoMs while one is in flight. */
  endedMonoMs: number;
  /** The value it wrote (what the device should read now, even before coordination records a new setpoint). */
  value: PointValue;
  /** Whether the last write succeeded. */
  ok: boolean;
  /** The value read back by the last successful write; null without verifyWrites. */
  readBack: ReadValue;
  /** When the last successful write began, ISO 8601 by ZooKeeper's clock: the device's timer restarted then. */
  refreshedAt: string | null;
  refreshedMonoMs: number | null;
}

export interface HoldWriterDeps {
  logger: Logger;
  /** The agent's clock: its wall time, stamped in documents, is ZooKeeper-corrected (CONTRACT.md section 9). */
  clock: Clock;
}

export class HoldWriter {
  private devices: ReadonlyMap<string, DeviceConfig>;
  private readonly tails = new Map<string, Promise<unknown>>();
  /** The registers of each device as last polled (or last written by us): `where it differs`. */
  private readonly known = new Map<string, Record<string, ReadValue>>();
  private readonly history = new Map<string, WriteHistory>();
  private readonly log: Logger;

  constructor(
    devices: readonly DeviceConfig[],
    private readonly drivers: ReadonlyMap<string, Driver>,
    private readonly deps: HoldWriterDeps,
  ) {
    this.devices = new Map(devices.map((d) => [d.id, d]));
    this.log = deps.logger.child({ component: 'hold-writer' });
  }

  /** A reload changed the devices: their points, fallbacks and watchdogs from now on. */
  update(devices: readonly DeviceConfig[]): void {
    this.devices = new Map(devices.map((d) => [d.id, d]));
  }

  /** How `point` of `device` is held, or undefined (a one-shot point, an unknown device). */
  plan(device: string, point: string): HoldPlan | undefined {
    const config = this.devices.get(device);
    return config === undefined ? undefined : holdPlanOf(config, this.drivers.get(device), point);
  }

  /** Writes a held value (timer where it differs, then the value). Throws what the driver throws. */
  write(device: string, point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: ReadValue }> {
    return this.exclusive(device, () => this.writeHeld(device, point, value, guard));
  }

  /**
   * A refresh: `decide` picks the value when the device's turn comes (after every write queued
   * before it), from what is known of the point's writes then; undefined writes nothing (a command
   * wrote the point meanwhile, or it is no longer held). Resolves to whether it wrote.
   */
  refresh(device: string, point: string, decide: (last: WriteHistory | undefined) => PointValue | undefined, guard: () => boolean): Promise<boolean> {
    return this.exclusive(device, async () => {
      const value = decide(this.history.get(key(device, point)));
      if (value === undefined) return false;
      await this.writeHeld(device, point, value, guard);
      return true;
    });
  }

  /**
   * Writes the point's fallback (a SunSpec control: switched off). Recorded as the point's last write,
   * like any other: until coordination has deleted the setpoint, a poll reading the fallback is what
   * our last write put there (no drift), and a refresh planned before the release finds a newer write
   * and writes nothing. (Forgetting the history here let a drift correction re-assert the released
   * value between the release's write and the setpoint's deletion.)
   */
  release(device: string, point: string, guard: () => boolean): Promise<{ readBack: ReadValue }> {
    return this.exclusive(device, async () => {
      const plan = this.requirePlan(device, point);
      const driver = this.requireDriver(device);
      return this.tracked(device, point, plan.fallback, () =>
        plan.kind === 'driver' && driver.releaseHeld !== undefined ? driver.releaseHeld(point, guard) : driver.write(point, plan.fallback, guard),
      );
    });
  }

  /** Writes a register the holder keeps written itself (the watchdog), in turn with the held points. */
  writeRegister(device: string, point: string, value: PointValue, guard: () => boolean): Promise<void> {
    return this.exclusive(device, async () => {
      await this.tracked(device, point, value, () => this.requireDriver(device).write(point, value, guard));
    });
  }

  /** A poll of `device` read `values`: what the timer registers hold now. */
  observe(device: string, values: Readonly<Record<string, ReadValue>>): void {
    this.known.set(device, { ...values });
  }

  /** What is known of the writes of `point`; undefined before the first. */
  lastWrite(device: string, point: string): WriteHistory | undefined {
    return this.history.get(key(device, point));
  }

  /** Runs `fn` after every write of `device` queued before it. */
  exclusive<T>(device: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(device) ?? Promise.resolve();
    const run = before.then(fn, fn);
    this.tails.set(
      device,
      run.catch(() => undefined),
    );
    return run;
  }

  private async writeHeld(device: string, point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: ReadValue }> {
    const plan = this.requirePlan(device, point);
    const driver = this.requireDriver(device);
    return this.tracked(device, point, value, async () => {
      if (plan.kind === 'driver') {
        if (driver.writeHeld === undefined) throw new Error(`device ${device}: its driver cannot hold ${point}`);
        return driver.writeHeld(point, value, guard);
      }
      const timer = plan.timer;
      if (timer !== null && this.known.get(device)?.[timer.point.name] !== timer.seconds) {
        await driver.write(timer.point.name, timer.seconds, guard);
        this.known.set(device, { ...this.known.get(device), [timer.point.name]: timer.seconds });
        this.log.info({ device, point, timer: timer.point.name, seconds: timer.seconds }, 'revert timer programmed');
      }
      return driver.write(point, value, guard);
    });
  }

  /** Runs one write of `point`, keeping its history (the refresh schedule and the readings' refreshedAt). */
  private async tracked<T extends { readBack: ReadValue } | void>(device: string, point: string, value: PointValue, fn: () => Promise<T>): Promise<T> {
    const k = key(device, point);
    const startedMonoMs = this.deps.clock.monotonicMs();
    const wallMs = this.deps.clock.nowMs();
    const h: WriteHistory = this.history.get(k) ?? { startedMonoMs, endedMonoMs: -1, value, ok: false, readBack: null, refreshedAt: null, refreshedMonoMs: null };
    h.startedMonoMs = startedMonoMs;
    h.value = value;
    h.ok = false;
    this.history.set(k, h);
    try {
      const result = await fn();
      h.ok = true;
      h.readBack = result === undefined ? null : result.readBack;
      h.refreshedAt = new Date(wallMs).toISOString();
      h.refreshedMonoMs = startedMonoMs;
      return result;
    } finally {
      h.endedMonoMs = this.deps.clock.monotonicMs();
    }
  }

  private requirePlan(device: string, point: string): HoldPlan {
    const plan = this.plan(device, point);
    if (plan === undefined) throw new Error(`device ${device}: ${point} is not a held point`);
    return plan;
  }

  private requireDriver(device: string): Driver {
    const driver = this.drivers.get(device);
    if (driver === undefined) throw new Error(`device '${device}' has no driver`);
    return driver;
  }
}

function key(device: string, point: string): string {
  return `${device}.${point}`;
}
