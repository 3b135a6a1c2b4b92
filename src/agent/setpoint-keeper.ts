// SetpointKeeper: keeps the site's held setpoints (CONTRACT.md section 7) in force on the devices,
// on the lock holder, only while its actuation gate is open:
//  - refresh: every held point with a revert timer is written again every R/3 - p (R its window, p
//    its device's poll interval), counted from the start of its last write (a command's, a
//    re-assertion's or a refresh's), and a device's watchdog register every everyMs/3 - p: the timing
//    and its proof are in config/fallback-timing.ts.
//  - drift: a poll that began after the last write of a held point and reads another value (another
//    Modbus client, a device reset) gets the held value written back at once, counted in
//    gridkeeper_setpoint_drift_total{device,point} and logged with who held what.
//  - readings: per device, when its timer was last refreshed and when it would fall back if nobody
//    refreshed it (the `fallback` of the device in the readings snapshot).
// What is held comes from coordination (HeldSetpoints.current(): nothing unless this agent holds
// the lock and has re-asserted); every write goes through the HoldWriter with the gate's guard, so
// an agent that is not the verified holder never refreshes a device, and a partitioned ex-holder
// cannot keep a device from falling back.
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { refreshIntervalMs, refreshWindows, windowAllowsTakeover } from '../config/fallback-timing.js';
import type { DeviceConfig, PointConfig, PointValue } from '../config/types.js';
import type { SetpointDocument } from '../coordination/index.js';
import type { ReadValue } from '../drivers/driver.js';
import type { DeviceFallback } from './device-state.js';
import type { HoldPlan } from './hold-plan.js';
import type { HoldWriter, WriteHistory } from './hold-writer.js';

export interface SetpointKeeperDeps {
  devices: readonly DeviceConfig[];
  writer: HoldWriter;
  /** Held setpoints in force (HeldSetpoints); 'change' when they change. */
  setpoints: { current(): SetpointDocument[]; on(event: 'change', fn: () => void): unknown; off(event: 'change', fn: () => void): unknown };
  /** The actuation gate: every write asks guard() right before its bytes go out. */
  gate: { isOpen(): boolean; guard(): boolean; on(event: 'open', fn: () => void): unknown; off(event: 'open', fn: () => void): unknown };
  /** The session timeout the ensemble granted, ms (the timing rule is checked against it at run time). */
  negotiatedTimeoutMs: () => number;
  registry: Registry;
  logger: Logger;
  clock: Clock;
  /** Runs each of the keeper's device writes (the agent's WritePause: a reload swaps drivers between writes, never during one). */
  around?: <T>(write: () => Promise<T>) => Promise<T>;
}

/** The earliest a refresh timer is armed ahead, ms (a burst of due items runs in one pass). */
const MIN_WAIT_MS = 20;
/** A refresh that failed (not for the gate) is tried again after a poll interval, but not sooner than this, ms. */
const MIN_RETRY_MS = 1000;
/** A SunSpec control's reading counts as the held value within this, %: half its coarsest step (scale factor 0). */
const CONTROL_TOLERANCE = 0.5;

interface Due {
  key: string;
  device: DeviceConfig;
  point: string;
  atMonoMs: number;
  run: () => Promise<void>;
}

export class SetpointKeeper {
  private readonly log: Logger;
  private devices: ReadonlyMap<string, DeviceConfig>;
  private readonly drift: Counter<'device' | 'point'>;
  private readonly refreshes: Counter<'device'>;
  private readonly inFlight = new Set<string>();
  /** Devices whose refresh failed: warned once until one succeeds. */
  private readonly failing = new Set<string>();
  private readonly warnedTiming = new Set<string>();
  /** Per device, the watchdog's next value (a counter). */
  private readonly watchdogCount = new Map<string, number>();
  private timer: unknown = null;
  private started = false;
  private closed = false;

  private readonly kick = (): void => this.schedule();
  private readonly onOpen = (): void => {
    this.checkNegotiatedTiming();
    this.schedule();
  };

  constructor(private readonly deps: SetpointKeeperDeps) {
    this.log = deps.logger.child({ component: 'setpoint-keeper' });
    this.devices = new Map(deps.devices.map((d) => [d.id, d]));
    this.drift = new Counter({
      name: 'gridkeeper_setpoint_drift_total',
      help: 'Polls that read a held setpoint back as another value (another writer, a device reset), each written back',
      labelNames: ['device', 'point'] as const,
      registers: [deps.registry],
    });
    this.refreshes = new Counter({
      name: 'gridkeeper_setpoint_refreshes_total',
      help: 'Held setpoints written again (refreshes of a revert timer, drift corrections) and watchdog writes, by device',
      labelNames: ['device'] as const,
      registers: [deps.registry],
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.setpoints.on('change', this.kick);
    this.deps.gate.on('open', this.onOpen);
    this.schedule();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.setpoints.off('change', this.kick);
    this.deps.gate.off('open', this.onOpen);
    this.clearTimer();
  }

  /** A reload changed the devices: their fallbacks, watchdogs and poll intervals from now on. */
  update(devices: readonly DeviceConfig[]): void {
    this.devices = new Map(devices.map((d) => [d.id, d]));
    this.schedule();
  }

  /** One poll of `device` through `poll`: what it read is checked against the held setpoints. */
  async poll<T extends Readonly<Record<string, ReadValue>>>(device: string, poll: () => Promise<T>): Promise<T> {
    const startedMonoMs = this.deps.clock.monotonicMs();
    const values = await poll();
    this.deps.writer.observe(device, values);
    this.checkDrift(device, values, startedMonoMs);
    return values;
  }

  /** The device's fallback timer for the readings snapshot; undefined while nothing keeps it. */
  fallbackOf(deviceId: string): DeviceFallback | undefined {
    const device = this.devices.get(deviceId);
    if (device === undefined) return undefined;
    const kept: Array<{ point: string; windowMs: number }> = [];
    for (const sp of this.held(deviceId)) {
      const windowMs = this.deps.writer.plan(deviceId, sp.point)?.windowMs;
      if (windowMs != null) kept.push({ point: sp.point, windowMs });
    }
    if (device.watchdog !== undefined && this.deps.gate.isOpen()) kept.push({ point: device.watchdog.point, windowMs: device.watchdog.everyMs });
    // The timer that runs out first says when the device falls back.
    let best: DeviceFallback | undefined;
    for (const { point, windowMs } of kept) {
      const refreshedAt = this.deps.writer.lastWrite(deviceId, point)?.refreshedAt;
      if (refreshedAt == null) continue;
      const revertsBy = new Date(Date.parse(refreshedAt) + windowMs).toISOString();
      if (best === undefined || revertsBy < best.revertsBy) best = { windowMs, refreshedAt, revertsBy };
    }
    return best;
  }

  // ---- refresh ------------------------------------------------------------------------------------

  /** Runs what is due now and arms the timer for the next. */
  private schedule(): void {
    this.clearTimer();
    if (this.closed || !this.deps.gate.isOpen()) return; // the gate's 'open' starts it again
    const now = this.deps.clock.monotonicMs();
    let next = Number.POSITIVE_INFINITY;
    for (const due of this.dueItems()) {
      if (this.inFlight.has(due.key)) continue;
      if (due.atMonoMs <= now + MIN_WAIT_MS) this.launch(due);
      else next = Math.min(next, due.atMonoMs);
    }
    if (Number.isFinite(next)) {
      this.timer = this.deps.clock.setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, Math.max(MIN_WAIT_MS, next - now));
    }
  }

  /** Every held point with a timer, and every watchdog, with when it is next due. */
  private dueItems(): Due[] {
    const out: Due[] = [];
    for (const sp of this.deps.setpoints.current()) {
      const device = this.devices.get(sp.device);
      const windowMs = this.deps.writer.plan(sp.device, sp.point)?.windowMs;
      if (device === undefined || windowMs == null) continue; // a watchdog keeps it
      const last = this.deps.writer.lastWrite(sp.device, sp.point);
      out.push({
        key: `${sp.device}.${sp.point}`,
        device,
        point: sp.point,
        atMonoMs: this.dueAt(last, refreshIntervalMs(windowMs, device.pollIntervalMs), device),
        run: () => this.refresh(sp.device, sp.point, last?.startedMonoMs),
      });
    }
    for (const device of this.devices.values()) {
      const wd = device.watchdog;
      if (wd === undefined) continue;
      out.push({
        key: `${device.id}.${wd.point}`,
        device,
        point: wd.point,
        atMonoMs: this.dueAt(this.deps.writer.lastWrite(device.id, wd.point), refreshIntervalMs(wd.everyMs, device.pollIntervalMs), device),
        run: () => this.feedWatchdog(device, wd.point),
      });
    }
    return out;
  }

  /**
   * Next refresh: an interval after the start of the last write (fallback-timing.ts); after a failed
   * one (a device reset, a leaderOnly port still opening at a takeover) again after a poll interval,
   * so that a device that answers again is refreshed long before its window runs out.
   */
  private dueAt(last: WriteHistory | undefined, intervalMs: number, device: DeviceConfig): number {
    if (last === undefined) return 0;
    if (last.ok || last.endedMonoMs < last.startedMonoMs) return last.startedMonoMs + intervalMs;
    return Math.min(last.startedMonoMs + intervalMs, last.endedMonoMs + Math.max(MIN_RETRY_MS, device.pollIntervalMs));
  }

  private launch(due: Due): void {
    this.inFlight.add(due.key);
    void due
      .run()
      .then(
        () => {
          this.refreshes.inc({ device: due.device.id });
          if (this.failing.delete(due.device.id)) this.log.info({ device: due.device.id }, 'refreshing the device works again');
        },
        (err: unknown) => this.refreshFailed(due, err),
      )
      .finally(() => {
        this.inFlight.delete(due.key);
        this.schedule();
      });
  }

  /**
   * Writes the held value of `point` again, as it is held when the device's turn comes, unless the
   * point was written since `lastStartedMonoMs` (a command's write restarted its timer, and its new
   * setpoint may not be recorded yet: writing the old one would undo it).
   */
  private async refresh(device: string, point: string, lastStartedMonoMs: number | undefined): Promise<void> {
    await this.around(() =>
      this.deps.writer.refresh(
        device,
        point,
        (last) => {
          if (last?.startedMonoMs !== lastStartedMonoMs) return undefined;
          const sp = this.held(device).find((s) => s.point === point);
          return sp === undefined ? undefined : heldValue(sp.value);
        },
        () => this.deps.gate.guard(),
      ),
    );
  }

  private around<T>(write: () => Promise<T>): Promise<T> {
    return this.deps.around === undefined ? write() : this.deps.around(write);
  }

  private async feedWatchdog(device: DeviceConfig, point: string): Promise<void> {
    const p = device.points.find((x) => x.name === point);
    if (p === undefined) return;
    const n = this.watchdogCount.get(device.id) ?? 0;
    this.watchdogCount.set(device.id, n + 1);
    await this.around(() => this.deps.writer.writeRegister(device.id, point, watchdogValue(p, n), () => this.deps.gate.guard()));
  }

  private refreshFailed(due: Due, err: unknown): void {
    if (!this.deps.gate.isOpen()) {
      this.log.debug({ err, device: due.device.id, point: due.point }, 'refresh not written: the actuation gate closed');
      return;
    }
    if (this.failing.has(due.device.id)) {
      this.log.debug({ err, device: due.device.id, point: due.point }, 'refresh failed again');
      return;
    }
    this.failing.add(due.device.id);
    this.log.warn({ err, device: due.device.id, point: due.point }, 'refreshing the device failed: it falls back by itself if this goes on for its window');
  }

  // ---- drift --------------------------------------------------------------------------------------

  private checkDrift(device: string, values: Readonly<Record<string, ReadValue>>, pollStartedMonoMs: number): void {
    if (!this.deps.gate.isOpen()) return;
    for (const sp of this.held(device)) {
      const key = `${device}.${sp.point}`;
      const actual = values[sp.point];
      const plan = this.deps.writer.plan(device, sp.point);
      const last = this.deps.writer.lastWrite(device, sp.point);
      // Only what was read after our last write ended says anything about it.
      if (actual === undefined || actual === null || plan === undefined || this.inFlight.has(key)) continue;
      if (last !== undefined && (last.endedMonoMs < last.startedMonoMs || last.endedMonoMs > pollStartedMonoMs)) continue;
      if (sameValue(plan, sp.value, actual, last?.readBack ?? null)) continue;
      // What our last write put there (a command's value whose setpoint is being recorded) is no drift.
      if (last !== undefined && sameValue(plan, last.value, actual, null)) continue;
      this.drift.inc({ device, point: sp.point });
      this.log.warn(
        { device, point: sp.point, held: sp.value, read: actual, command: sp.command, setBy: sp.agentId, token: sp.token, setAt: sp.setAt, issuedBy: sp.issuedBy },
        `held setpoint ${key} = ${JSON.stringify(sp.value)} (${sp.command}, set by ${sp.agentId ?? '?'} for ${sp.issuedBy ?? '?'}) read back as ${JSON.stringify(actual)}: writing it back`,
      );
      const d = this.devices.get(device);
      if (d !== undefined) this.launch({ key, device: d, point: sp.point, atMonoMs: 0, run: () => this.refresh(device, sp.point, last?.startedMonoMs) });
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private held(device: string): SetpointDocument[] {
    return this.deps.setpoints.current().filter((s) => s.device === device);
  }

  /** Warns once per window that the timing rule fails with the session timeout the ensemble granted. */
  private checkNegotiatedTiming(): void {
    const T = this.deps.negotiatedTimeoutMs();
    for (const device of this.devices.values()) {
      const sunspecRevertSeconds = device.sunspec?.revertSeconds;
      for (const w of refreshWindows({ ...device, sunspecRevertSeconds })) {
        const key = `${device.id}:${w.source}:${w.point ?? ''}`;
        if (windowAllowsTakeover(w.windowMs, T, device.pollIntervalMs) || this.warnedTiming.has(key)) continue;
        this.warnedTiming.add(key);
        this.log.warn(
          { device: device.id, point: w.point, windowMs: w.windowMs, negotiatedTimeoutMs: T, pollIntervalMs: device.pollIntervalMs },
          'the session timeout the ensemble granted is too long for this fallback window: after a failover the device may fall back before the next holder re-asserts its setpoint',
        );
      }
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}

/** A held value as a device value; undefined for what no device holds (not a number, bool or string). */
function heldValue(v: unknown): PointValue | undefined {
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string' ? v : undefined;
}

/**
 * Whether `actual` (a poll's reading) is the held value: equal to what the last write read back, or
 * within the point's rounding of it (half a raw step; float precision; a SunSpec control's coarsest
 * step). Bools compare as bools (a command may have said 1 for true).
 */
export function sameValue(plan: HoldPlan, held: unknown, actual: PointValue, readBack: ReadValue): boolean {
  if (readBack !== null && actual === readBack) return true;
  if (typeof actual === 'boolean' || typeof held === 'boolean') return Boolean(held) === Boolean(actual);
  if (typeof held !== 'number' || typeof actual !== 'number') return held === actual;
  return Math.abs(held - actual) <= tolerance(plan, held);
}

function tolerance(plan: HoldPlan, held: number): number {
  if (plan.kind === 'driver') return CONTROL_TOLERANCE;
  const p: PointConfig = plan.point;
  const relative = 1e-9 * Math.max(1, Math.abs(held));
  if (p.type === 'float32') return Math.abs(held) * 2 ** -23 + relative;
  if (p.type === 'float64' || p.scaleFactor !== undefined) return relative; // a scale factor's step: by the read-back
  return Math.abs(p.scale) / 2 + relative;
}

/** The n-th value of a watchdog register: a counter through min..max (step 1), or a bit that toggles. */
export function watchdogValue(p: PointConfig, n: number): PointValue {
  if (p.type === 'bool') return n % 2 === 0;
  const lo = Math.ceil(p.min ?? 0);
  const hi = Math.floor(p.max ?? lo + 1);
  const span = Math.max(1, hi - lo + 1);
  return lo + (n % span);
}
