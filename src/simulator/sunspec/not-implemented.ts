// The registers a SunSpec device serves for a point it leaves out: the encoder's side of the
// "not implemented" values, from the same table the driver's decoder judges them by
// (src/drivers/sunspec/not-implemented.ts; a test holds the two together for every type).
import { NOT_IMPLEMENTED } from '../../drivers/sunspec/not-implemented.js';
import type { SunSpecType } from '../../drivers/sunspec/types.js';

/** `size` registers saying "not implemented" for a point of `type`. */
export function notImplementedRegisters(type: SunSpecType, size: number): number[] {
  const { first, rest } = NOT_IMPLEMENTED[type];
  return Array.from({ length: size }, (_, i) => (i === 0 ? first : rest));
}
