// "Now" by ZooKeeper's clock for decisions that must not trust the local one (command expiry, the
// end of a held setpoint's holdMs): the ServerClock's estimate, refreshed by a probe write first
// when its newest sample is old (a long quiet spell: no writes, no samples).
import type { ServerClock } from './server-clock.js';

/** A clock sample older than this is refreshed by a probe write before judging by it, ms. */
export const MAX_CLOCK_SAMPLE_AGE_MS = 10 * 60_000;

export interface ServerNow {
  /** Estimated server time, ms since the epoch. */
  nowMs: number;
  /** How far off the estimate may be, ms (half the sample's round trip). */
  uncertaintyMs: number;
}

/** ZooKeeper's time now; null while there is no sample at all (then nothing may be judged by it). */
export async function serverNow(clock: ServerClock, probe: (() => Promise<unknown>) | undefined, onProbeError: (err: unknown) => void): Promise<ServerNow | null> {
  const age = clock.sampleAgeMs();
  if ((age === null || age > MAX_CLOCK_SAMPLE_AGE_MS) && probe) await probe().catch(onProbeError);
  return serverNowEstimate(clock);
}

/** ZooKeeper's time now from the samples there are, without a probe (for synchronous callers); null without any. */
export function serverNowEstimate(clock: ServerClock): ServerNow | null {
  const nowMs = clock.nowMs();
  return nowMs === null ? null : { nowMs, uncertaintyMs: clock.uncertaintyMs() ?? 0 };
}
