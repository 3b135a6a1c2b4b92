// ResultsPruner: keeps the holder's results/ bounded (CONTRACT.md section 10), so that a busy site's
// history does not grow the ensemble's memory (every znode lives in the heap of every server):
//  - by count: beyond control.resultsKept, the oldest sequence numbers go first;
//  - by age: older than control.resultsMaxAgeMs by ZooKeeper's clock, i.e. the result znode's ctime
//    (stamped by the ZooKeeper leader) against the ServerClock's estimate of the server's time now,
//    never the local wall clock (a gateway may boot with a wrong date). The estimate's uncertainty
//    counts against pruning: a result is deleted only when it is surely old.
// Results are written in sequence order (the holder handles commands in sequence order), so their
// ctimes grow with their sequence numbers: the age walk stats from the oldest and stops at the first
// young one. A check that finds nothing to prune costs one getChildren and one exists.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { isZkError } from './errors.js';
import { COMMAND_PREFIX, sortBySequence, type SitePaths } from './paths.js';
import type { ServerClock } from './server-clock.js';
import { serverNow } from './server-now.js';
import type { ZkSession } from './session.js';

export interface ResultsLimits {
  /** control.resultsKept: results kept before the oldest are pruned. */
  resultsKept: number;
  /** control.resultsMaxAgeMs: results older than this (ZooKeeper's clock) are pruned, ms. */
  resultsMaxAgeMs: number;
}

export interface ResultsPrunerDeps {
  session: ZkSession;
  serverClock: ServerClock;
  /** Makes a write whose Stat teaches the ServerClock (used when it has no recent sample). */
  clockProbe?: () => Promise<unknown>;
  /** False stops a prune midway (the holder lost the lock or is closing). */
  active: () => boolean;
  logger: Logger;
  clock: Clock;
}

/** The age check runs every tenth of the maximum age (a week: every 10 minutes), within these bounds, ms. */
const MIN_AGE_CHECK_MS = 100;
const MAX_AGE_CHECK_MS = 10 * 60_000;

export class ResultsPruner {
  private nextAgeCheckMonoMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly opts: { paths: SitePaths; limits: () => ResultsLimits },
    private readonly deps: ResultsPrunerDeps,
  ) {}

  /** Milliseconds until the next age check is due (0: due now). */
  ageCheckInMs(): number {
    return Math.max(0, this.nextAgeCheckMonoMs - this.deps.clock.monotonicMs());
  }

  /** Deletes results beyond resultsKept (oldest first), then those older than resultsMaxAgeMs. */
  async prune(): Promise<void> {
    const { resultsKept, resultsMaxAgeMs } = this.opts.limits();
    this.nextAgeCheckMonoMs = this.deps.clock.monotonicMs() + Math.min(MAX_AGE_CHECK_MS, Math.max(MIN_AGE_CHECK_MS, resultsMaxAgeMs / 10));
    try {
      const results = sortBySequence(await this.deps.session.getChildren(this.opts.paths.results), COMMAND_PREFIX);
      const excess = Math.max(0, results.length - resultsKept);
      for (const { name } of results.slice(0, excess)) {
        if (!this.deps.active()) return;
        await this.delete(name);
      }
      const byAge = await this.pruneByAge(results.slice(excess).map((r) => r.name), resultsMaxAgeMs);
      if (excess + byAge > 0) this.deps.logger.debug({ byCount: excess, byAge }, 'old results pruned');
    } catch (err) {
      this.deps.logger.warn({ err }, 'pruning results failed');
    }
  }

  /** Deletes from the oldest of `names` while they are older than `maxAgeMs`; returns how many. */
  private async pruneByAge(names: readonly string[], maxAgeMs: number): Promise<number> {
    if (names.length === 0) return 0;
    const now = await serverNow(this.deps.serverClock, this.deps.clockProbe, (err) => this.deps.logger.debug({ err }, 'clock probe failed'));
    if (now === null) return 0; // no estimate of ZooKeeper's clock yet: judge nothing by it
    let pruned = 0;
    for (const name of names) {
      if (!this.deps.active()) break;
      const stat = await this.deps.session.exists(this.opts.paths.result(name));
      if (stat === null) continue; // deleted meanwhile
      // Conservative towards keeping: the estimate's uncertainty counts as youth.
      const ageMs = now.nowMs - stat.ctimeMs - now.uncertaintyMs;
      if (ageMs <= maxAgeMs) break;
      await this.delete(name);
      pruned++;
    }
    return pruned;
  }

  private async delete(name: string): Promise<void> {
    try {
      await this.deps.session.delete(this.opts.paths.result(name));
    } catch (err) {
      if (!isZkError(err, 'NONODE')) throw err;
    }
  }
}
