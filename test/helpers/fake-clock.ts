// A manual Clock for tests of pure scheduling logic (STYLE.md 8): time moves only when the test
// advances it, and timers fire in order as it does.
import type { Clock } from '../../src/clock.js';

/** A manual clock: timers fire only when the test advances time. */
export class FakeClock implements Clock {
  private t = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private nextId = 1;
  nowMs(): number {
    return this.t;
  }
  monotonicMs(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  /** Moves time forward, firing due timers in order (and those they arm). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      // As in Node: pending promise callbacks run before the next timer.
      for (let i = 0; i < 5; i++) await Promise.resolve();
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at); // a stalled clock never goes back
      next.fn();
    }
    this.t = end;
  }
  /** Time jumps without timers firing: an event-loop stall. */
  stall(ms: number): void {
    this.t += ms;
  }
}
