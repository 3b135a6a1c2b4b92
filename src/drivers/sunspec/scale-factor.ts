// A sunssf value as the exponent of the points that name it. SunSpec scale factors are -10..10; a
// device sending anything else is broken, and its points must not be published as numbers.
import { SunSpecDataError } from './errors.js';
import type { SunSpecValue } from './decode.js';
import { SF_MAX, SF_MIN } from './model-schema.js';

/**
 * The exponent for points scaled by the sunssf point `sfPoint` (its decoded value): null when the
 * device says it is not implemented (0x8000). Throws SunSpecDataError SCALE_FACTOR_OUT_OF_RANGE.
 */
export function scaleFactorExponent(value: SunSpecValue | undefined, where: { model: number; sfPoint: string }): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < SF_MIN || value > SF_MAX) {
    throw new SunSpecDataError(
      'SCALE_FACTOR_OUT_OF_RANGE',
      where.model,
      `model ${where.model}: scale factor ${where.sfPoint} is ${String(value)}, not an integer from ${SF_MIN} to ${SF_MAX}`,
    );
  }
  return value;
}
