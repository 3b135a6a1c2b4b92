// Time as gridkeeper reads it: one Clock, handed to whatever measures, stamps or schedules, so that
// a test can hand in another. Two time bases on purpose: the wall clock names moments in documents
// (and may be wrong: a Raspberry Pi has no battery clock and may boot years off), the monotonic
// clock measures durations (leases, waits, poll schedules) and never jumps when NTP corrects the
// wall clock.

export interface Clock {
  /** Wall clock, ms since the epoch (Date.now()). */
  nowMs(): number;
  /** Monotonic ms (performance.now()): only differences mean anything. */
  monotonicMs(): number;
  /** Calls `fn` once after `ms`; the handle is for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A better estimate of the time than the local wall clock, once it has one (ZooKeeper's: coordination/server-clock.ts). */
export interface TimeReference {
  /** ms since the epoch; null while there is no estimate yet. */
  nowMs(): number | null;
}

/**
 * The one wall clock of everything a reader sees (CONTRACT.md section 9: readAt, publishedAt,
 * startedAt, results, setpoints, the site page's ages): the local wall clock corrected by
 * `reference`, ZooKeeper's clock, once that has an estimate (the agent learns it from its first
 * write, a moment after connecting); the local wall clock until then. Monotonic time and timers are
 * the local clock's: durations never jump. A gateway that boots with its clock a year off still
 * stamps the right time, and the moment the estimate arrives its stamps jump by the offset, once,
 * like an NTP correction; onCorrected() listeners hear of it first, and may correct what they
 * stamped before. `offsetMs()` says how far off the local clock is (/healthz clockOffsetMs).
 */
export class CorrectedClock implements Clock {
  private readonly listeners: Array<(offsetMs: number) => void> = [];
  private seenReference = false;

  constructor(
    /** The local clock (timers, monotonic time, and the wall clock before the reference is known). */
    readonly local: Clock,
    private readonly reference: TimeReference,
  ) {}

  /** Corrected wall clock, ms since the epoch. */
  nowMs(): number {
    return this.referenceMs() ?? this.local.nowMs();
  }

  /** nowMs() as ISO 8601, as the documents carry it. */
  isoNow(): string {
    return new Date(this.nowMs()).toISOString();
  }

  /** True once the reference has an estimate (stamps are corrected from then on). */
  get corrected(): boolean {
    return this.referenceMs() !== null;
  }

  /** Reference minus local wall clock, ms: positive when the local clock is behind; null before the reference is known. */
  offsetMs(): number | null {
    const ref = this.referenceMs();
    return ref === null ? null : ref - this.local.nowMs();
  }

  /**
   * `listener(offsetMs)` runs once, when the reference is first read with an estimate, before that
   * corrected time is handed to anyone: every time stamped by this clock before it is local time,
   * and adding `offsetMs` (reference minus local, then) makes it corrected time.
   */
  onCorrected(listener: (offsetMs: number) => void): void {
    this.listeners.push(listener);
  }

  private referenceMs(): number | null {
    const ref = this.reference.nowMs();
    if (ref !== null && !this.seenReference) {
      this.seenReference = true;
      const offsetMs = ref - this.local.nowMs();
      for (const listener of this.listeners) listener(offsetMs);
    }
    return ref;
  }

  monotonicMs(): number {
    return this.local.monotonicMs();
  }

  setTimeout(fn: () => void, ms: number): unknown {
    return this.local.setTimeout(fn, ms);
  }

  clearTimeout(handle: unknown): void {
    this.local.clearTimeout(handle);
  }
}

/** A local clock further off ZooKeeper's than this is worth a warning (the log, the site page), ms. */
export const CLOCK_OFF_WARN_MS = 2000;
