// Does the value read back after a write say the write took? Pure.
//
// A written number was first rounded to the point's raw type: to a step of `scale * 10^sf`
// engineering units for integer registers, to float32/float64 precision for float registers. The
// read-back therefore matches when it equals what the registers we sent decode to, or when it lies
// within that rounding of the requested value (half a raw step; half an ulp, relative, for floats),
// so a device that stores the value in its own but equally fine way is not reported as a mismatch.
import type { PointConfig, PointValue } from '../../config/types.js';

/** Half an ulp, relative: float32 has a 24-bit significand, float64 53 bits. */
const HALF_ULP: Partial<Record<PointConfig['type'], number>> = { float32: 2 ** -24, float64: 2 ** -53 };
/** Slack for the decimal/binary conversions on top of the raw rounding. */
const RELATIVE_SLACK = 1e-12;

/**
 * @param requested the value the command asked for
 * @param intended  the value the registers that were sent decode to
 * @param actual    the value read back
 */
export function readBackMatches(
  p: PointConfig,
  requested: PointValue,
  intended: PointValue,
  actual: PointValue,
  sfExponent = 0,
): boolean {
  if (actual === intended) return true;
  if (typeof actual !== 'number' || typeof requested !== 'number') return false;
  if (Number.isNaN(actual)) return false;
  const halfUlp = HALF_ULP[p.type];
  const toleranceAbs =
    halfUlp !== undefined
      ? Math.abs(requested - p.offset) * halfUlp * 2 // requested was rounded once (half ulp); allow one more
      : (Math.abs(p.scale) * 10 ** sfExponent) / 2;
  const slack = RELATIVE_SLACK * Math.max(1, Math.abs(requested));
  return Math.abs(actual - requested) <= toleranceAbs + slack;
}
