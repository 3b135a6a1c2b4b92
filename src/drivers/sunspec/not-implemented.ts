// SunSpec's "not implemented" encodings: the register patterns a device sends for a point it does
// not support (SunSpec Information Model Specification; CONTRACT.md section 6). Such a value is
// published as null, never as a number. Judged on the registers as they come off the wire, which
// are big-endian (high word first).
import type { SunSpecType } from './types.js';

/** The exponent bits of an IEEE 754 value in its high register: all set for NaN and infinity. */
const EXPONENT_BITS = { float32: 0x7f80, float64: 0x7ff0 } as const;

/** Whether registers from..to-1 all equal `word`. */
function allAre(regs: ArrayLike<number>, from: number, to: number, word: number): boolean {
  for (let i = from; i < to; i++) if (regs[i] !== word) return false;
  return true;
}

/**
 * Whether `regs` (the point's own registers, `size` of them) say "not implemented" for a point of
 * `type`: int16/int32/int64 and sunssf the most negative value (0x8000, 0x80000000, ...); unsigned,
 * enum, bitfield and count types all ones; accumulators, addresses and strings all zero; floats NaN.
 */
export function isNotImplemented(type: SunSpecType, regs: ArrayLike<number>, size: number): boolean {
  switch (type) {
    case 'int16':
    case 'int32':
    case 'int64':
    case 'sunssf':
      return regs[0] === 0x8000 && allAre(regs, 1, size, 0);
    case 'uint16':
    case 'uint32':
    case 'uint64':
    case 'raw16':
    case 'enum16':
    case 'enum32':
    case 'bitfield16':
    case 'bitfield32':
    case 'bitfield64':
    case 'count':
      return allAre(regs, 0, size, 0xffff);
    case 'acc16':
    case 'acc32':
    case 'acc64':
    case 'ipaddr':
    case 'ipv6addr':
    case 'string':
      return allAre(regs, 0, size, 0);
    case 'eui48':
      // 4 registers; the address is the low 48 bits (registers 1..3), all ones when not implemented.
      return allAre(regs, 1, size, 0xffff);
    case 'float32':
    case 'float64':
      // NaN is SunSpec's "not implemented". Infinity is not, but JSON cannot carry it and no device
      // means a measurement by it: both have every exponent bit set.
      return ((regs[0] ?? 0) & EXPONENT_BITS[type]) === EXPONENT_BITS[type];
    case 'pad':
      // Padding carries nothing.
      return true;
  }
}
