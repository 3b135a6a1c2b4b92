// What the physics of a simulated SunSpec device get from the device that runs them.
import type { Logger } from 'pino';
import type { Random } from '../random.js';
import type { TimerClock } from '../revert-timer.js';

export interface SunSpecModelDeps {
  random: Random;
  /** Clock of the device's own timers (revert timers): real time, not the simulated day. */
  timers: TimerClock;
  /** Asks the device to recompute and serve its values now (a timer changed something). */
  wake: () => void;
  /**
   * How fast outputs follow a new setpoint, in percent of the rating per wall second; 0 = at once
   * (a frozen simulator has no ticks to ramp on).
   */
  rampPctPerS: number;
  logger: Logger;
}

/** 100 % of the rating per second: a full swing takes 1 s, within a poll or two of an agent. */
export const DEFAULT_RAMP_PCT_PER_S = 100;

/** The largest change of an output of `ratingW` over `dtMs`, or Infinity when outputs jump. */
export function rampStepW(deps: Pick<SunSpecModelDeps, 'rampPctPerS'>, ratingW: number, dtMs: number): number {
  return deps.rampPctPerS <= 0 ? Number.POSITIVE_INFINITY : (ratingW * deps.rampPctPerS * dtMs) / 100 / 1000;
}
