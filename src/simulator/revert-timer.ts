// A device's own revert timer as the device runs it: a SunSpec control's (123 WMaxLimPct_RvrtTms,
// 124 InOutWRte_RvrtTms) or a generic device's (models/point-revert.ts). Every write of the control,
// its enable flag or the timer starts it again with the timer's seconds; if nobody writes before it
// runs out, the device drops the control by itself.
// Real time on the timers' clock, not the compressed simulated day: the agent refreshes by its own
// wall-clock schedule (CONTRACT.md section 7).
import type { Clock } from '../clock.js';

export type TimerClock = Pick<Clock, 'setTimeout' | 'clearTimeout' | 'monotonicMs'>;

/** A uint16 "seconds" register of 0xFFFF means not implemented, 0 means no timer. */
const NOT_IMPLEMENTED = 0xffff;

export class RevertTimer {
  private handle: unknown = undefined;
  private deadline: number | null = null;

  constructor(
    private readonly clock: TimerClock,
    private readonly onExpire: () => void,
  ) {}

  /** Starts the timer again with `seconds` (0, not a number or not implemented: no timer). */
  arm(seconds: number | undefined): void {
    this.cancel();
    if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0 || seconds >= NOT_IMPLEMENTED) return;
    const ms = seconds * 1000;
    this.deadline = this.clock.monotonicMs() + ms;
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      this.deadline = null;
      this.onExpire();
    }, ms);
  }

  cancel(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.deadline = null;
  }

  /** Monotonic ms at which the control reverts, or null when no timer runs. */
  get deadlineMs(): number | null {
    return this.deadline;
  }
}
