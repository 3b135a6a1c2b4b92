// SunSpec's "not implemented" encodings: the register patterns a device sends for a point it does
// not support (SunSpec Information Model Specification; CONTRACT.md section 6). Such a value is
// published as null, never as a number. Judged on the registers as they come off the wire, which
// are big-endian (high word first). One table serves both sides: the decoder here and the
// simulator's encoder (src/simulator/sunspec/not-implemented.ts).
import type { SunSpecType } from './types.js';

/** A point's registers when not implemented: its first register, then every other one. */
export interface NotImplementedFill {
  readonly first: number;
  readonly rest: number;
}

const MOST_NEGATIVE: NotImplementedFill = { first: 0x8000, rest: 0 };
const ALL_ONES: NotImplementedFill = { first: 0xffff, rest: 0xffff };
const ZERO: NotImplementedFill = { first: 0, rest: 0 };

/**
 * What a device serves for a point of each type it leaves out: int16/int32/int64 and sunssf the most
 * negative value (0x8000, 0x80000000, ...); unsigned, enum, bitfield, count and eui48 types all
 * ones; accumulators, addresses and strings all zero; floats a quiet NaN (exponent bits all set, top
 * mantissa bit set); padding carries nothing, and devices commonly serve 0x8000 there.
 */
export const NOT_IMPLEMENTED: Readonly<Record<SunSpecType, NotImplementedFill>> = {
  int16: MOST_NEGATIVE,
  int32: MOST_NEGATIVE,
  int64: MOST_NEGATIVE,
  sunssf: MOST_NEGATIVE,
  pad: MOST_NEGATIVE,
  uint16: ALL_ONES,
  uint32: ALL_ONES,
  uint64: ALL_ONES,
  raw16: ALL_ONES,
  enum16: ALL_ONES,
  enum32: ALL_ONES,
  bitfield16: ALL_ONES,
  bitfield32: ALL_ONES,
  bitfield64: ALL_ONES,
  count: ALL_ONES,
  eui48: ALL_ONES,
  acc16: ZERO,
  acc32: ZERO,
  acc64: ZERO,
  ipaddr: ZERO,
  ipv6addr: ZERO,
  string: ZERO,
  float32: { first: 0x7fc0, rest: 0 },
  float64: { first: 0x7ff8, rest: 0 },
};

/** The exponent bits of an IEEE 754 value in its high register: all set for NaN and infinity. */
const EXPONENT_BITS = { float32: 0x7f80, float64: 0x7ff0 } as const;

/** Whether registers from..to-1 all equal `word`. */
function allAre(regs: ArrayLike<number>, from: number, to: number, word: number): boolean {
  for (let i = from; i < to; i++) if (regs[i] !== word) return false;
  return true;
}

/**
 * Whether `regs` (the point's own registers, `size` of them) say "not implemented" for a point of
 * `type`: the registers of NOT_IMPLEMENTED, except where the specification accepts more.
 */
export function isNotImplemented(type: SunSpecType, regs: ArrayLike<number>, size: number): boolean {
  switch (type) {
    case 'pad':
      // Padding carries nothing.
      return true;
    case 'eui48':
      // 4 registers; the address is the low 48 bits (registers 1..3), all ones when not implemented.
      return allAre(regs, 1, size, 0xffff);
    case 'float32':
    case 'float64':
      // NaN is SunSpec's "not implemented". Infinity is not, but JSON cannot carry it and no device
      // means a measurement by it: both have every exponent bit set.
      return ((regs[0] ?? 0) & EXPONENT_BITS[type]) === EXPONENT_BITS[type];
    default: {
      const { first, rest } = NOT_IMPLEMENTED[type];
      return regs[0] === first && allAre(regs, 1, size, rest);
    }
  }
}
