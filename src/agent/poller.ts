import type { Logger } from 'pino';
import type { DeviceConfig, PointValue } from '../config/types.js';
import type { AgentMetrics } from './metrics.js';
import { pendingReading, type DeviceReading } from './device-state.js';
import { FixedRateTimer, systemClock, type Clock, type TickInfo } from './schedule.js';

/** What the poller needs of a device driver (src/drivers/device-driver.ts). */
export interface PollSource {
  poll(): Promise<Record<string, PointValue>>;
}

/**
 * Polls one device at its own interval, without drift and without overlapping itself, and keeps
 * its reading. On a `leaderOnly` bus it polls only while `active()` says so and shows `standby`
 * otherwise.
 */
export class DevicePoller {
  private readonly timer: FixedRateTimer;
  private state: DeviceReading;
  /** Monotonic time of the last tick the scheduler fired (polled, skipped or standby). */
  lastTickMs: number;
  /** Ticks that started on time (within half an interval of their schedule); for the bench. */
  onTime = 0;
  late = 0;

  constructor(
    readonly device: DeviceConfig,
    private readonly source: PollSource,
    private readonly deps: {
      logger: Logger;
      metrics: AgentMetrics;
      busId: string;
      /** false puts the device in standby (leaderOnly bus while not leader). */
      active: () => boolean;
      clock?: Clock;
      /** Called after every change of the reading. */
      onChange?: () => void;
    },
  ) {
    this.state = pendingReading(device.kind);
    const clock = deps.clock ?? systemClock;
    this.lastTickMs = clock.now();
    this.timer = new FixedRateTimer(device.pollIntervalMs, (tick) => this.tick(tick), clock, (n) =>
      deps.metrics.pollOverruns.inc({ device: device.id }, n),
    );
    this.setUp(false);
  }

  get reading(): DeviceReading {
    return this.state;
  }

  get overruns(): number {
    return this.timer.overruns;
  }

  start(): void {
    // Spread the first polls of many devices over their interval a little, so 500 devices on one
    // gateway do not all fire in the same millisecond.
    this.timer.start(Math.floor(Math.random() * Math.min(this.device.pollIntervalMs, 1000) * 0.2));
  }

  close(): void {
    this.timer.stop();
  }

  /** Re-evaluate `active()` now: leadership changed. */
  refresh(): void {
    if (!this.deps.active() && this.state.status !== 'standby') {
      this.state = { ...this.state, status: 'standby', error: null };
      this.setUp(false);
      this.deps.onChange?.();
    }
  }

  private async tick(tick: TickInfo): Promise<void> {
    const clock = this.deps.clock ?? systemClock;
    this.lastTickMs = clock.now();
    if (tick.lateMs <= this.device.pollIntervalMs / 2) this.onTime++;
    else this.late++;
    this.deps.metrics.pollLateness.observe(tick.lateMs / 1000);
    if (!this.deps.active()) {
      this.refresh();
      return;
    }
    const startMs = clock.now();
    try {
      const values = await this.source.poll();
      if (!this.deps.active()) return this.refresh(); // leadership went while we read
      this.state = { kind: this.device.kind, status: 'ok', readAt: new Date().toISOString(), values, error: null };
      this.deps.metrics.polls.inc({ device: this.device.id, result: 'ok' });
      this.setUp(true);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (this.state.status !== 'error' || this.state.error !== message) {
        this.deps.logger.warn({ err }, 'poll failed');
      }
      this.state = { ...this.state, status: 'error', error: message };
      this.deps.metrics.polls.inc({ device: this.device.id, result: 'error' });
      this.setUp(false);
    } finally {
      this.deps.metrics.pollDuration.observe({ device: this.device.id }, (clock.now() - startMs) / 1000);
    }
    this.deps.onChange?.();
  }

  private setUp(up: boolean): void {
    this.deps.metrics.deviceUp.set({ device: this.device.id, kind: this.device.kind, bus: this.deps.busId }, up ? 1 : 0);
  }
}
