// FixedRateTimer is pure scheduling logic: a fake clock is the right tool here (STYLE.md 8).
import { describe, expect, it } from 'vitest';
import { FixedRateTimer, type TickInfo } from '../../src/agent/schedule.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('FixedRateTimer', () => {
  it('fires at start + k * interval, without drift, whatever each run takes', async () => {
    const clock = new FakeClock();
    const ticks: TickInfo[] = [];
    const timer = new FixedRateTimer(1000, async (tick) => void ticks.push(tick), clock);
    timer.start();
    await clock.advance(10_000);
    timer.stop();
    expect(ticks.map((t) => t.dueMs)).toEqual([0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000]);
    expect(ticks.every((t) => t.lateMs === 0)).toBe(true);
    expect(timer.overruns).toBe(0);
  });

  it('skips and counts a tick while the previous run is still going, instead of queueing it', async () => {
    const clock = new FakeClock();
    const started: number[] = [];
    let release: (() => void) | null = null;
    const skipped: number[] = [];
    const timer = new FixedRateTimer(
      1000,
      (tick) => {
        started.push(tick.dueMs);
        // The run at 1000 hangs for 2.5 intervals.
        return tick.dueMs === 1000 ? new Promise<void>((r) => (release = r)) : Promise.resolve();
      },
      clock,
      (n) => skipped.push(n),
    );
    timer.start();
    await clock.advance(3500);
    release!();
    await clock.advance(1500);
    timer.stop();
    expect(started).toEqual([0, 1000, 4000, 5000]);
    expect(timer.overruns).toBe(2); // 2000 and 3000 were skipped, not run late
    expect(skipped).toEqual([1, 1]);
  });

  it('after a stall it resumes on the grid and counts the ticks it missed', async () => {
    const clock = new FakeClock();
    const started: TickInfo[] = [];
    const timer = new FixedRateTimer(1000, async (tick) => void started.push(tick), clock);
    timer.start();
    await clock.advance(1000); // ticks 0 and 1000
    clock.stall(3200); // now 4200: the timer for 2000 fires late
    await clock.advance(0);
    await clock.advance(1000);
    timer.stop();
    // The late tick runs once (as the 4000 tick, 200 ms late); 2000 and 3000 are counted as overruns.
    expect(started.map((t) => [t.dueMs, t.lateMs])).toEqual([[0, 0], [1000, 0], [4000, 200], [5000, 0]]);
    expect(timer.overruns).toBe(2);
  });

  it('stop() cancels the next tick', async () => {
    const clock = new FakeClock();
    let runs = 0;
    const timer = new FixedRateTimer(100, async () => void runs++, clock);
    timer.start();
    await clock.advance(250);
    timer.stop();
    await clock.advance(1000);
    expect(runs).toBe(3);
  });
});
