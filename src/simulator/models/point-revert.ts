// A generic device's own revert timer (profiles/generic-inverter.yaml activePowerLimitRevertS,
// generic-bms.yaml currentLimitRevertS), as such devices run it: every write of a held point or of
// the timer register starts it again with the register's seconds; when it runs out without a new
// write, the device puts the held points back to its own safe values (CONTRACT.md section 7: what
// a device does by itself when nobody controls it). 0 seconds: no timer. Real time, like the
// SunSpec devices' timers (../revert-timer.ts), not the compressed simulated day.
import type { Logger } from 'pino';
import { RevertTimer, type TimerClock } from '../revert-timer.js';
import type { PointIO } from './model.js';

export interface PointRevertDeps {
  timers: TimerClock;
  /** Asks the device to recompute and serve its values now (the timer changed something). */
  wake: () => void;
  logger: Logger;
}

export class PointRevert {
  private readonly timer: RevertTimer;
  private due = false;

  constructor(
    /** The timer register, s. */
    private readonly timerPoint: string,
    /** Held points and the value each returns to. */
    private readonly safeValues: ReadonlyMap<string, number>,
    private readonly deps: PointRevertDeps,
  ) {
    this.timer = new RevertTimer(deps.timers, () => {
      this.due = true;
      deps.wake();
    });
  }

  /** A client wrote `names`: a write of a held point or of the timer starts the timer again. */
  written(io: PointIO, names: ReadonlySet<string>): void {
    if (!names.has(this.timerPoint) && ![...this.safeValues.keys()].some((n) => names.has(n))) return;
    this.timer.arm(io.num(this.timerPoint));
  }

  /** Called at the start of a physics step: puts the held points back once the timer ran out. */
  apply(io: PointIO): void {
    if (!this.due) return;
    this.due = false;
    for (const [name, value] of this.safeValues) io.set(name, value);
    this.deps.logger.info({ points: [...this.safeValues.keys()], timer: this.timerPoint }, 'revert timer ran out: held points back to their safe values');
  }

  close(): void {
    this.timer.cancel();
  }
}
