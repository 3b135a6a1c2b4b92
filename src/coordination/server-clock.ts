// ZooKeeper's clock as seen from here. Command expiry compares a command's ctime (stamped by the
// ZooKeeper leader) with "now"; the local wall clock cannot be trusted for that (a Raspberry Pi has
// no battery clock and may boot with the wrong date, then jump when NTP arrives). Every write this
// agent makes returns a Stat whose mtime is the server's time of that write, somewhere between our
// send and our receive: that pins the offset between the server clock and our MONOTONIC clock to
// within half the round trip. Monotonic rather than Date.now(): the offset then survives NTP jumps.
// Of the samples of the last `windowMs` the one with the shortest round trip wins.
// It is the TimeReference of the agent's one wall clock (CorrectedClock in clock.ts): how far the
// local wall clock is off is CorrectedClock.offsetMs().
import type { Clock, TimeReference } from '../clock.js';

interface Sample {
  atMonoMs: number;
  offsetMs: number;
  rttMs: number;
}

export class ServerClock implements TimeReference {
  private samples: Sample[] = [];
  /** The sample of the shortest round trip among `samples`: read at every stamp (each poll), so kept, not searched. */
  private bestSample: Sample | null = null;
  private readonly windowMs: number;

  constructor(
    private readonly deps: { clock: Clock },
    opts: { windowMs?: number } = {},
  ) {
    this.windowMs = opts.windowMs ?? 60_000;
  }

  /** A request sent at `sentMonoMs` and answered at `receivedMonoMs` (monotonic) carried `serverTimeMs`. */
  observe(sentMonoMs: number, receivedMonoMs: number, serverTimeMs: number): void {
    if (!Number.isFinite(serverTimeMs) || receivedMonoMs < sentMonoMs) return;
    const midMs = (sentMonoMs + receivedMonoMs) / 2;
    const sample = { atMonoMs: receivedMonoMs, offsetMs: serverTimeMs - midMs, rttMs: receivedMonoMs - sentMonoMs };
    this.samples.push(sample);
    if (this.bestSample === null || sample.rttMs < this.bestSample.rttMs) this.bestSample = sample;
    this.prune();
  }

  /** Estimated server time now (ms since the epoch), or null before the first sample. */
  nowMs(): number | null {
    const best = this.best();
    return best === null ? null : this.deps.clock.monotonicMs() + best.offsetMs;
  }

  /** Half the round trip of the sample in use: the estimate is within this of the server's clock. */
  uncertaintyMs(): number | null {
    const best = this.best();
    return best === null ? null : best.rttMs / 2;
  }

  /** How old the newest sample is, ms; null without any. */
  sampleAgeMs(): number | null {
    const last = this.samples[this.samples.length - 1];
    return last === undefined ? null : this.deps.clock.monotonicMs() - last.atMonoMs;
  }

  private best(): Sample | null {
    this.prune();
    return this.bestSample;
  }

  /** Drops samples older than the window, but always keeps the newest one; finds the best anew when it went. */
  private prune(): void {
    const cutoff = this.deps.clock.monotonicMs() - this.windowMs;
    let bestGone = false;
    while (this.samples.length > 1 && (this.samples[0]?.atMonoMs ?? 0) < cutoff) bestGone = this.samples.shift() === this.bestSample || bestGone;
    if (!bestGone) return;
    this.bestSample = null;
    for (const s of this.samples) if (this.bestSample === null || s.rttMs < this.bestSample.rttMs) this.bestSample = s;
  }
}
