// How a device's polls have been going, and whether the next one may go to the bus at all. A device
// that failed FAILURES_BEFORE_BACKOFF polls in a row is backed off: polls within the backoff
// interval (growing, with jitter, reset by a good poll) are refused at once with the last error and
// send nothing, so a dead device does not cost its bus a timeout every cycle. Transport errors do
// not count: then the bus is down, not the device, and the bus has its own backoff and fails fast.
// Shared by every kind of device driver (register-map profiles, SunSpec).
import type { Logger } from 'pino';
import { Backoff } from '../../backoff.js';
import { TransportError } from '../errors.js';

/** Consecutive failed polls after which polls are skipped for a growing interval. */
export const FAILURES_BEFORE_BACKOFF = 2;
const DEFAULT_DEVICE_BACKOFF = { initialMs: 1_000, maxMs: 60_000 };

export interface PollHealthDeps {
  /** Monotonic clock in ms; default performance.now. */
  now?: () => number;
  /** Backoff of a failing device (ms); default 1000 up to 60000. */
  backoff?: { initialMs: number; maxMs: number };
  /** Uniform in [0, 1) for jitter; default Math.random. */
  random?: () => number;
}

export interface PollCounters {
  /** Polls that went to the bus (skipped ones not counted). */
  polls: number;
  failedPolls: number;
  /** Polls refused without bus traffic because the device is backed off. */
  skippedPolls: number;
  consecutiveFailures: number;
}

export class PollHealth {
  readonly now: () => number;
  private readonly backoff: Backoff;
  private backedOffUntil: number | null = null;
  private lastError: Error | null = null;
  private lastDurationMs: number | null = null;
  private readonly counts: PollCounters = { polls: 0, failedPolls: 0, skippedPolls: 0, consecutiveFailures: 0 };

  constructor(
    private readonly log: Logger,
    deps: PollHealthDeps = {},
  ) {
    this.now = deps.now ?? (() => performance.now());
    this.backoff = new Backoff({ ...(deps.backoff ?? DEFAULT_DEVICE_BACKOFF), random: deps.random });
  }

  get counters(): PollCounters {
    return { ...this.counts };
  }

  /** Until when (the `now` clock, ms) polls are skipped; null when not backed off. */
  get backedOffUntilMs(): number | null {
    return this.backedOffUntil;
  }

  /** How long the last admitted poll took (the `now` clock, ms); null before the first. */
  get lastPollDurationMs(): number | null {
    return this.lastDurationMs;
  }

  /**
   * One poll of a driver: admitted (throws the last error while backed off), timed, and counted as
   * succeeded or failed by whether `poll` resolves.
   */
  async run<T>(poll: () => Promise<T>): Promise<T> {
    this.admit();
    const startedMs = this.now();
    try {
      const result = await poll();
      this.succeeded();
      return result;
    } catch (err) {
      this.failed(err);
      throw err;
    } finally {
      this.lastDurationMs = this.now() - startedMs;
    }
  }

  /** Called at the start of a poll: throws the last error while backed off, else counts the poll. */
  admit(): void {
    if (this.backedOffUntil !== null && this.now() < this.backedOffUntil && this.lastError !== null) {
      this.counts.skippedPolls += 1;
      throw this.lastError;
    }
    this.counts.polls += 1;
  }

  succeeded(): void {
    // debug: the agent logs a device's outage and recovery once (src/outage-log.ts), not per backoff step.
    if (this.counts.consecutiveFailures > 0) this.log.debug({ after: this.counts.consecutiveFailures }, 'device answers again');
    this.counts.consecutiveFailures = 0;
    this.backoff.reset();
    this.backedOffUntil = null;
    this.lastError = null;
  }

  failed(err: unknown): void {
    this.counts.failedPolls += 1;
    if (err instanceof TransportError) return; // the bus is down, not the device
    this.counts.consecutiveFailures += 1;
    this.lastError = err instanceof Error ? err : new Error(String(err));
    if (this.counts.consecutiveFailures >= FAILURES_BEFORE_BACKOFF) {
      const delayMs = this.backoff.next();
      this.backedOffUntil = this.now() + delayMs;
      this.log.debug({ err, failures: this.counts.consecutiveFailures, delayMs: Math.round(delayMs) }, 'device backed off');
    }
  }
}
