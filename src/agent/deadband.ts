// When a point's new value is worth a new readings snapshot (CONTRACT.md section 10): compared with
// the value in the last PUBLISHED snapshot, not with the previous poll, so that a slow drift of many
// small steps is published once it adds up to the band. Pure.
//
//  - a numeric move publishes when |now - published| >= deadband: exactly at the band counts, so a
//    deadband equal to the register's step (0.1 °C) still shows every step;
//  - deadband 0 (or none): any change publishes, as before deadbands existed;
//  - null stands for "not implemented" (SunSpec) and is what JSON makes of NaN and ±Infinity: those
//    are compared as null, and a change to or from null always publishes;
//  - text and booleans publish on any change; a point that appears or disappears publishes.
import type { PointValue } from '../config/types.js';

type Published = PointValue | null | undefined;

/**
 * Decimal scaling in binary (0.1 steps) leaves a move "exactly at the band" a hair short of it:
 * 230.1 - 229.1 is 0.99999999999997. A move within this fraction of the band counts as at it.
 */
const AT_BAND_RELATIVE = 1e-9;

/** As the snapshot's JSON shows it: NaN and ±Infinity become null. */
function asPublished(v: Published): Published {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

/** True when `now` differs enough from `published` (the value in the last snapshot) to publish. */
export function movedPastDeadband(published: Published, now: Published, deadband: number): boolean {
  const a = asPublished(published);
  const b = asPublished(now);
  if (a === b) return false;
  if (typeof a !== 'number' || typeof b !== 'number') return true; // null, undefined, text, bool, or a change of type
  if (deadband <= 0) return true;
  const slack = AT_BAND_RELATIVE * Math.max(Math.abs(a), Math.abs(b), deadband);
  return Math.abs(b - a) >= deadband - slack;
}
