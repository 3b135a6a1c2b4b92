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
