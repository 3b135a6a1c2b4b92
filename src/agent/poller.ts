import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import type { DeviceConfig, PointValue } from '../config/types.js';
import { OutageLog } from '../outage-log.js';
import type { AgentMetrics } from './metrics.js';
import { pendingReading, type DeviceReading } from './device-state.js';
import { FixedRateTimer, type TickInfo } from './schedule.js';

/** What the poller needs of a device driver (src/drivers/driver.ts). */
export interface PollSource {
  poll(): Promise<Record<string, PointValue | null>>;
}

/**
 * Polls one device at its own interval, without drift and without overlapping itself, and keeps
 * its reading. On a `leaderOnly` bus it polls only while `active()` says so and shows `standby`
 * otherwise.
 */
/** Poll schedules start on this grid (ms). */
const POLL_GRID_MS = 50;

export class DevicePoller {
  private readonly timer: FixedRateTimer;
  private readonly clock: Clock;
  private state: DeviceReading;
  private up: boolean | null = null;
  /** `device down` / `still down` / `up again` lines instead of one per failed poll. */
  private readonly outage: OutageLog;
  /** This device's metric series, bound once (no label hashing on the poll path). */
  private readonly series: {
    duration: ReturnType<AgentMetrics['pollDuration']['labels']>;
    ok: ReturnType<AgentMetrics['polls']['labels']>;
    failed: ReturnType<AgentMetrics['polls']['labels']>;
    up: ReturnType<AgentMetrics['deviceUp']['labels']>;
  };
  /** Monotonic time of the last tick the scheduler fired (polled, skipped or standby). */
  lastTickMs: number;
  /** A poll is on its way (cleared before `polled` is called, unlike the timer's own flag). */
  private polling = false;

  constructor(
    readonly device: DeviceConfig,
    private readonly source: PollSource,
    private readonly deps: {
      logger: Logger;
      metrics: AgentMetrics;
      busId: string;
      /** false puts the device in standby (leaderOnly bus while not leader). */
      active: () => boolean;
      /** Schedules by its monotonic time, stamps readAt by its wall time (the agent's: ZooKeeper-corrected). */
      clock?: Clock;
      /** Called when a poll has ended and its reading is in place (ok or error). */
      polled?: () => void;
    },
  ) {
    this.state = pendingReading(device.kind);
    this.clock = deps.clock ?? systemClock;
    this.lastTickMs = this.clock.monotonicMs();
    this.outage = new OutageLog({ subject: 'device', attempt: 'poll', countAs: 'failedPolls' }, { logger: deps.logger.child({ bus: deps.busId }), clock: this.clock });
    const m = deps.metrics;
    this.series = {
      duration: m.pollDuration.labels({ device: device.id }),
      ok: m.polls.labels({ device: device.id, result: 'ok' }),
      failed: m.polls.labels({ device: device.id, result: 'error' }),
      up: m.deviceUp.labels({ device: device.id, kind: device.kind, bus: deps.busId }),
    };
    const overruns = m.pollOverruns.labels({ device: device.id });
    this.timer = new FixedRateTimer(device.pollIntervalMs, (tick) => this.tick(tick), this.clock, (n) => overruns.inc(n));
    this.setUp(false);
  }

  get reading(): DeviceReading {
    return this.state;
  }

  get overruns(): number {
    return this.timer.overruns;
  }

  /**
   * `slot`: this device's place among the devices of its bus. Devices of one bus start in
   * successive slots of a 50 ms grid (wrapping at the interval), so they do not queue behind each
   * other on the bus, and all devices together wake the process up at most 20 times a second
   * rather than once each.
   */
  start(slot = 0): void {
    const slots = Math.max(1, Math.floor(Math.min(this.device.pollIntervalMs, 1000) / POLL_GRID_MS));
    this.timer.start((slot % slots) * POLL_GRID_MS, POLL_GRID_MS);
  }

  close(): void {
    this.timer.stop();
  }

  /**
   * The clock stamping readAt was corrected by `offsetMs` (ZooKeeper's clock became known,
   * CorrectedClock.onCorrected): the readAt of the values held now was local time, and is made
   * corrected time the same way.
   */
  correctReadAt(offsetMs: number): void {
    const readAtMs = this.state.readAt === null ? NaN : Date.parse(this.state.readAt);
    if (Number.isFinite(readAtMs)) this.state = { ...this.state, readAt: new Date(readAtMs + offsetMs).toISOString() };
  }

  /** Re-evaluate `active()` now: leadership changed. */
  refresh(): void {
    if (!this.deps.active() && this.state.status !== 'standby') {
      this.state = { ...this.state, status: 'standby', error: null };
      this.setUp(false);
    }
  }

  private async tick(tick: TickInfo): Promise<void> {
    this.lastTickMs = this.clock.monotonicMs();
    this.deps.metrics.pollLateness.observe(tick.lateMs / 1000);
    if (!this.deps.active()) {
      this.refresh();
      return;
    }
    const startMs = this.clock.monotonicMs();
    this.polling = true;
    try {
      const values = await this.source.poll();
      if (!this.deps.active()) return this.refresh(); // leadership went while we read
      this.state = { kind: this.device.kind, status: 'ok', readAt: new Date(this.clock.nowMs()).toISOString(), values, error: null };
      this.series.ok.inc();
      this.setUp(true);
      this.outage.succeeded();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.outage.failed(err);
      this.state = { ...this.state, status: 'error', error: message };
      this.series.failed.inc();
      this.setUp(false);
    } finally {
      this.polling = false;
      this.series.duration.observe((this.clock.monotonicMs() - startMs) / 1000);
    }
    this.deps.polled?.();
  }

  /** A poll is running, or the next one is due within `withinMs` (ms) of `nowMs` (monotonic). */
  busyWithin(nowMs: number, withinMs: number): boolean {
    return this.polling || this.timer.nextDueMs - nowMs <= withinMs;
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    this.series.up.set(up ? 1 : 0);
  }
}
