// Fixed-rate scheduling without drift: tick k is due at `startMs + k * intervalMs` on the monotonic
// clock, whatever each run took. A run still going when its next tick is due makes that tick (and
// any other missed one) an overrun: skipped and counted, never queued up behind it.
import { systemClock, type Clock } from '../clock.js';

export interface TickInfo {
  /** When this tick was due (monotonic ms). */
  dueMs: number;
  /** How late it started (ms). */
  lateMs: number;
}

export class FixedRateTimer {
  private timer: unknown = null;
  private running = false;
  private stopped = true;
  private k = 0;
  private startMs = 0;
  /** Ticks skipped because the previous run was still going. */
  overruns = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly run: (tick: TickInfo) => Promise<void>,
    private readonly clock: Clock = systemClock,
    private readonly onOverrun: (skipped: number) => void = () => undefined,
  ) {}

  /**
   * First tick after `initialDelayMs`, rounded up to a multiple of `alignMs` on the monotonic clock:
   * timers aligned to one grid fall due in the same millisecond and fire in one wake-up of the
   * event loop, instead of one wake-up each.
   */
  start(initialDelayMs = 0, alignMs = 1): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.startMs = Math.ceil((this.clock.monotonicMs() + initialDelayMs) / alignMs) * alignMs;
    this.k = 0;
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  get busy(): boolean {
    return this.running;
  }

  /** When the next tick is due (monotonic ms); Infinity while stopped. */
  get nextDueMs(): number {
    return this.stopped ? Number.POSITIVE_INFINITY : this.startMs + this.k * this.intervalMs;
  }

  private arm(): void {
    if (this.stopped) return;
    const dueMs = this.startMs + this.k * this.intervalMs;
    this.timer = this.clock.setTimeout(() => this.fire(dueMs), Math.max(0, dueMs - this.clock.monotonicMs()));
  }

  private fire(dueMs: number): void {
    this.timer = null;
    if (this.stopped) return;
    const now = this.clock.monotonicMs();
    // Ticks whose time has fully passed while we waited (event loop stall) are skipped, not replayed.
    // Node may fire a timer a fraction of a millisecond before performance.now() reaches dueMs:
    // never count that as -1 ticks behind (it made an on-time tick look a whole interval late).
    const behind = Math.max(0, Math.floor((now - dueMs) / this.intervalMs));
    if (behind > 0) {
      this.overruns += behind;
      this.onOverrun(behind);
      this.k += behind;
    }
    this.k += 1;
    if (this.running) {
      this.overruns += 1;
      this.onOverrun(1);
    } else {
      this.running = true;
      const tickDue = dueMs + behind * this.intervalMs;
      this.run({ dueMs: tickDue, lateMs: Math.max(0, now - tickDue) }).finally(() => {
        this.running = false;
      }).catch(() => undefined);
    }
    this.arm();
  }
}
