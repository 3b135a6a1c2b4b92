// When the snapshot is written relative to the polls (publish-pacer.ts), on a manual clock: devices
// poll in 50 ms slots as the agent schedules them, each poll taking a few ms, and the pacer is told
// of every poll's end as the agent tells it.
import { describe, expect, it } from 'vitest';
import { PublishPacer } from '../../src/agent/publish-pacer.js';
import { FakeClock } from '../helpers/fake-clock.js';

const INTERVAL = 1000;
const POLL_MS = 3;

/** Devices polled every INTERVAL at the given phases (ms), each poll taking POLL_MS. */
class Site {
  readonly clock = new FakeClock();
  readonly writes: number[] = [];
  /** Whether a poll read a change (per poll, by device index and round). */
  changes: (device: number, round: number) => boolean = () => true;
  /** publish() finds something worth writing. */
  worthWriting = true;
  readonly pacer: PublishPacer;

  constructor(private readonly phases: number[]) {
    this.pacer = new PublishPacer({
      clock: this.clock,
      intervalMs: () => INTERVAL,
      pollsBusy: (withinMs) => this.busy(withinMs),
      publish: () => {
        if (!this.worthWriting) return false;
        this.writes.push(this.clock.monotonicMs());
        return true;
      },
    });
  }

  /** Arms every device's polls for `rounds` intervals, starting at round `from`. */
  schedule(rounds: number, from = 0): void {
    this.phases.forEach((phase, device) => {
      for (let r = from; r < from + rounds; r++) {
        this.clock.setTimeout(() => {
          this.clock.setTimeout(() => this.pacer.polled(() => this.changes(device, r)), POLL_MS);
        }, r * INTERVAL + phase - this.clock.monotonicMs());
      }
    });
  }

  private busy(withinMs: number): boolean {
    const t = this.clock.monotonicMs();
    return this.phases.some((phase) => {
      const inRound = ((t - phase) % INTERVAL + INTERVAL) % INTERVAL; // ms since this device's last poll start
      return inRound < POLL_MS || INTERVAL - inRound <= withinMs;
    });
  }
}

describe('publish pacer', () => {
  it('a quiet site publishes a change as soon as its poll ends', async () => {
    const site = new Site([0, 50, 100]);
    site.changes = (device, round) => device === 1 && round === 3;
    site.schedule(5);
    await site.clock.advance(5 * INTERVAL);
    expect(site.writes).toEqual([3 * INTERVAL + 50 + POLL_MS]);
  });

  it('after a quiet write, the rest of its round goes out once more at the round end, then the budget holds', async () => {
    const site = new Site([0, 50, 100, 150]);
    // Round 3: the first and the third device change (a cloud over the park); round 4: all of them.
    site.changes = (device, round) => (round === 3 && (device === 0 || device === 2)) || round === 4;
    site.schedule(6);
    await site.clock.advance(6 * INTERVAL);
    const roundEnd = 150 + POLL_MS;
    expect(site.writes).toEqual([3 * INTERVAL + POLL_MS, 3 * INTERVAL + roundEnd, 4 * INTERVAL + roundEnd]);
  });

  it('with a change in every poll, writes once an interval, right behind the last poll of the round', async () => {
    const phases = [0, 50, 100, 150, 200, 250];
    const site = new Site(phases);
    site.schedule(20);
    await site.clock.advance(20 * INTERVAL);
    const endOfRound = 250 + POLL_MS;
    // The first change goes out at once (the site was quiet), the rest of its round at the round's
    // end; from then on, once a round, right behind its last poll.
    expect(site.writes.slice(0, 2)).toEqual([POLL_MS, endOfRound]);
    const steady = site.writes.slice(1);
    expect(steady).toHaveLength(20);
    for (const [k, t] of steady.entries()) expect(t).toBe(k * INTERVAL + endOfRound);
    // Never more than one write in an interval (less 5 %) after that.
    for (let i = 1; i < steady.length; i++) expect(steady[i]! - steady[i - 1]!).toBeGreaterThanOrEqual(0.95 * INTERVAL);
    // So a value a poll read waits at most the length of the round (250 ms) for its write.
  });

  it('a site busy all the time writes once per interval plus the round gap, never more often', async () => {
    // 20 slots a second, every one taken: no moment without a poll due within 100 ms.
    const site = new Site(Array.from({ length: 20 }, (_, i) => i * 50));
    site.schedule(10);
    await site.clock.advance(10 * INTERVAL);
    expect(site.writes.length).toBeGreaterThanOrEqual(8);
    for (let i = 1; i < site.writes.length; i++) {
      const gap = site.writes[i]! - site.writes[i - 1]!;
      expect(gap).toBeGreaterThanOrEqual(INTERVAL);
      expect(gap).toBeLessThanOrEqual(INTERVAL + 100 + 50); // budget, the gap, and the poll that ends it
    }
  });

  it('polls that change nothing ask for nothing', async () => {
    const site = new Site([0, 50]);
    site.changes = () => false;
    site.schedule(5);
    await site.clock.advance(5 * INTERVAL);
    expect(site.writes).toEqual([]);
  });

  it('a publish that finds nothing worth writing uses no budget', async () => {
    const site = new Site([0]);
    site.worthWriting = false;
    site.changes = (_d, round) => round === 1;
    site.schedule(3);
    await site.clock.advance(1500);
    expect(site.writes).toEqual([]);
    site.worthWriting = true;
    site.changes = (_d, round) => round === 2;
    await site.clock.advance(1000);
    expect(site.writes).toEqual([2 * INTERVAL + POLL_MS]);
  });

  it('the tick asks only when nothing was written for a whole interval', async () => {
    const site = new Site([0]);
    site.changes = (_d, round) => round === 0;
    site.schedule(1);
    await site.clock.advance(10);
    expect(site.writes).toEqual([POLL_MS]);
    site.pacer.tick(); // 7 ms after a write: no
    await site.clock.advance(INTERVAL - 10);
    site.pacer.tick(); // 997 ms after it: no
    await site.clock.advance(10);
    site.pacer.tick(); // 1007 ms after it: yes
    expect(site.writes).toEqual([POLL_MS, INTERVAL + 10]);
  });

  it('the tick leaves a snapshot the polls made dirty to the end of their round', async () => {
    const site = new Site([0, 50, 100]);
    site.changes = (device, round) => (round === 0 && device === 0) || (round === 1 && device === 1);
    site.schedule(2);
    await site.clock.advance(1060); // round 1: the second device's change (1053) waits for the third's poll
    expect(site.writes).toEqual([POLL_MS]);
    site.pacer.tick(); // the budget of the write at 3 is open: a tick of its own would write mid-round
    expect(site.writes).toEqual([POLL_MS]);
    await site.clock.advance(100);
    expect(site.writes).toEqual([POLL_MS, INTERVAL + 100 + POLL_MS]);
  });

  it('a change read when the budget has long been open waits for the end of its round, not for a fixed delay', async () => {
    const phases = [0, 50, 100, 150, 200, 250, 300];
    const site = new Site(phases);
    // Round 0: one change (a quiet write at once); round 1 (1.0 to 1.3 s after it, budget open, not
    // yet quiet): the second device changes, and the round runs 250 ms more.
    site.changes = (device, round) => (round === 0 && device === 0) || (round === 1 && device === 1);
    site.schedule(2);
    await site.clock.advance(2 * INTERVAL);
    expect(site.writes).toEqual([POLL_MS, INTERVAL + 300 + POLL_MS]);
  });

  it('a write outside the pacer (leadership) counts against the budget', async () => {
    const site = new Site([0, 50, 100]);
    site.schedule(3);
    await site.clock.advance(500); // the first change went out at once, the rest of the round at its end
    expect(site.writes).toEqual([POLL_MS, 100 + POLL_MS]);
    site.pacer.wrote(); // at 500
    await site.clock.advance(INTERVAL + 100);
    // The next round (1000..1103) is inside the budget of the write at 500: it waits until 1450
    // (95 % of an interval), then for the deadline, since no round ends after it before 2000.
    expect(site.writes[2]).toBeGreaterThanOrEqual(500 + 0.95 * INTERVAL);
    site.pacer.close();
  });
});
