// When to write the readings snapshot, so that a value a poll has just read does not wait most of a
// second for a publish tick that knows nothing of the polls (issue "site page": fresh data), while
// the agent still writes at most about one snapshot per `publish.intervalMs` and none when nothing
// changed (ReadingsPublisher decides that; this only decides when to ask it).
//
// - A poll whose device changed (past its deadbands) makes the snapshot dirty.
// - A site that wrote nothing for two intervals is quiet (deadbands hold it still): a change there is
//   published at once, as soon as its poll ends. The rest of that round of polls may write once more,
//   at its end, whatever the budget: a change seldom comes alone (a command moves several points, a
//   cloud moves every inverter), and without this write the devices polled after the first would
//   wait for the budget and then for the next round, up to two intervals. Two writes after two silent
//   intervals: still no more than one per interval on average.
// - Otherwise the snapshot waits for the budget (one write per interval) and for the end of the
//   current round of polls: the moment no poll is running and none is due within `gapMs`. Devices of
//   a bus start in successive 50 ms slots, so a round of polls is a burst; writing after its last
//   poll rather than after its first spares every other device of the round a whole interval. The
//   writes then fall at the same phase of every interval, right behind the polls.
// - A site busy all the time (hundreds of devices spread over the whole interval) never has such a
//   moment: the snapshot goes `gapMs` after the budget allows, about once an interval, as before. A
//   change that comes when the budget has long been open waits at most half an interval for its
//   round to end.
// - The periodic tick (every interval) still asks whenever the budget allows and no poll has made the
//   snapshot dirty: for the alive write (publish.maxIntervalMs) and for changes that do not come from
//   a poll.
//
// Budget: a write at the end of a round may come `tolerance` of an interval early, since the rounds
// themselves are exactly an interval apart and their ends jitter by milliseconds; a write that comes
// early never comes earlier than that, so the rate stays within 1/(0.95 interval).
import type { Clock } from '../clock.js';

export interface PacerDeps {
  clock: Pick<Clock, 'monotonicMs' | 'setTimeout' | 'clearTimeout'>;
  /** publish.intervalMs, read at each decision (a reload may change it). */
  intervalMs(): number;
  /** True while a poll is running or one is due within `withinMs` from now. */
  pollsBusy(withinMs: number): boolean;
  /** Asks for a snapshot now: true when one was written (ReadingsPublisher may find nothing worth it). */
  publish(): boolean;
}

/** Share of an interval a write at the end of a round may come early. */
const TOLERANCE = 0.05;
/** No poll due within this long (ms, at most a quarter interval) ends a round. Two 50 ms poll slots. */
const ROUND_GAP_MS = 100;
/** A site that has written nothing for this many intervals publishes a change at once. */
const QUIET_INTERVALS = 2;

export class PublishPacer {
  private lastWriteMs = Number.NEGATIVE_INFINITY;
  /** When the snapshot became dirty (a poll read a change not yet written), or null. */
  private dirtySinceMs: number | null = null;
  private timer: unknown = null;
  private closed = false;
  /** Until when (monotonic ms) the round a quiet write started in may still write once at its end. */
  private roundAfterQuietUntilMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: PacerDeps) {}

  /**
   * A poll ended; `changed` tells whether its device's reading differs from the last written
   * snapshot (asked only while the snapshot is clean: once dirty, the next write carries it anyway).
   */
  polled(changed: () => boolean): void {
    if (this.dirtySinceMs === null && changed()) this.dirtySinceMs = this.deps.clock.monotonicMs();
    if (this.dirtySinceMs !== null) this.consider();
  }

  /**
   * The periodic tick: asks for a snapshot whenever the budget allows, unless polls have made the
   * snapshot dirty: then its write is already timed to the end of their round (a tick at its own
   * phase would write mid-round, and the devices after it would wait for the next budget).
   */
  tick(): void {
    if (this.dirtySinceMs !== null) return;
    if (this.deps.clock.monotonicMs() >= this.lastWriteMs + this.deps.intervalMs()) this.flush();
  }

  /** A snapshot was written outside the pacer (leadership changed): it counts against the budget. */
  wrote(): void {
    this.lastWriteMs = this.deps.clock.monotonicMs();
    this.roundAfterQuietUntilMs = Number.NEGATIVE_INFINITY;
    this.dirtySinceMs = null;
    this.disarm();
  }

  close(): void {
    this.closed = true;
    this.disarm();
  }

  private consider(): void {
    if (this.closed || this.dirtySinceMs === null) return;
    const nowMs = this.deps.clock.monotonicMs();
    const intervalMs = this.deps.intervalMs();
    const gapMs = Math.min(ROUND_GAP_MS, intervalMs / 4);
    if (nowMs - this.lastWriteMs >= QUIET_INTERVALS * intervalMs) {
      this.roundAfterQuietUntilMs = nowMs + intervalMs * (1 - TOLERANCE);
      return this.flush();
    }
    const budgetMs = this.lastWriteMs + intervalMs * (1 - TOLERANCE);
    // No quiet moment comes (a site busy all the time): write `gapMs` after the budget. A change
    // read while the budget was long open waits up to half an interval for the end of its round.
    const deadlineMs = Math.max(this.lastWriteMs + intervalMs + gapMs, this.dirtySinceMs + intervalMs / 2);
    const roundAfterQuiet = nowMs < this.roundAfterQuietUntilMs;
    if (nowMs >= deadlineMs || ((nowMs >= budgetMs || roundAfterQuiet) && !this.deps.pollsBusy(gapMs))) {
      this.roundAfterQuietUntilMs = Number.NEGATIVE_INFINITY;
      return this.flush();
    }
    // Not yet: look again when the budget opens (a round that ended early) or at the deadline; the
    // end of a round is the end of a poll, which calls polled() anyway.
    this.arm((nowMs < budgetMs ? budgetMs : deadlineMs) - nowMs);
  }

  private flush(): void {
    this.disarm();
    this.dirtySinceMs = null;
    if (this.deps.publish()) this.lastWriteMs = this.deps.clock.monotonicMs();
  }

  private arm(delayMs: number): void {
    if (this.timer !== null) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      this.consider();
    }, Math.max(0, delayMs));
  }

  private disarm(): void {
    if (this.timer !== null) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
