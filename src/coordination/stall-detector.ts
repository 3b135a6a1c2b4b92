// Event-loop stall watchdog. The ZooKeeper client pings from this same event loop, so a stall (a
// long synchronous task, a GC pause, a swapped-out Pi) can let the session expire on the server
// while this process still believes it is connected. A timer ticks every `tickMs`; a tick that
// comes more than `thresholdMs` late means the loop was blocked, and `stall` is emitted at once.
// `isStalled()` answers the same synchronously from the time of the last tick, so a check made
// right after a stall (before the late timer had its turn) still sees it. (The event-loop lag
// histogram for operators is prom-client's, in the agent's metrics.)
import { EventEmitter } from 'node:events';
import type { Clock } from '../clock.js';

export interface StallDetectorOptions {
  /** A loop blocked longer than this is a stall. */
  thresholdMs: number;
  /** Watchdog period; default thresholdMs / 4 (at least 10 ms). */
  tickMs?: number;
}

export class StallDetector extends EventEmitter<{ stall: [stalledMs: number] }> {
  private thresholdMsValue: number;
  private tickMsValue: number;
  private timer: NodeJS.Timeout | null = null;
  private lastTickMs = 0;

  constructor(
    opts: StallDetectorOptions,
    private readonly deps: { clock: Clock },
  ) {
    super();
    this.thresholdMsValue = opts.thresholdMs;
    this.tickMsValue = tickFor(opts);
  }

  get thresholdMs(): number {
    return this.thresholdMsValue;
  }

  get tickMs(): number {
    return this.tickMsValue;
  }

  /** Changes the threshold (e.g. once the negotiated session timeout is known); restarts the timer. */
  setThreshold(thresholdMs: number): void {
    if (thresholdMs === this.thresholdMsValue) return;
    this.thresholdMsValue = thresholdMs;
    this.tickMsValue = tickFor({ thresholdMs });
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = setInterval(() => this.tick(), this.tickMsValue);
      this.timer.unref();
    }
  }

  start(): void {
    if (this.timer) return;
    this.lastTickMs = this.deps.clock.monotonicMs();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** True when the watchdog has not run for longer than tick + threshold: the loop is or was blocked. */
  isStalled(): boolean {
    if (!this.timer) return false;
    return this.deps.clock.monotonicMs() - this.lastTickMs > this.tickMs + this.thresholdMs;
  }

  private tick(): void {
    const now = this.deps.clock.monotonicMs();
    const lateMs = now - this.lastTickMs - this.tickMs;
    this.lastTickMs = now;
    if (lateMs > this.thresholdMs) this.emit('stall', lateMs);
  }
}

function tickFor(opts: StallDetectorOptions): number {
  return Math.max(10, opts.tickMs ?? Math.floor(opts.thresholdMs / 4));
}
