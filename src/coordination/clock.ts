// Time as coordination reads it. Two clocks on purpose: the wall clock names moments in documents
// (and may be wrong: a Raspberry Pi has no battery clock and may boot years off), the monotonic
// clock measures durations (leases, waits) and never jumps when NTP corrects the wall clock.

export interface Clock {
  /** Wall clock, ms since the epoch (Date.now()). */
  nowMs(): number;
  /** Monotonic ms (performance.now()): only differences mean anything. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
};
