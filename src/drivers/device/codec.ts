// Converts between a point's Modbus registers (or bit) and its engineering value. Pure: no I/O.
//
// Registers are 16-bit unsigned numbers as they come off the wire. A multi-register value is laid
// out by `wordOrder` (big = high word first, ABCD; little = low word first, CDAB) and `byteOrder`
// (big = AB inside each register; little = BA). `string` points keep their registers in address
// order and only honour `byteOrder`. A `bit` point reads bit N (0 = least significant) of the
// register after `byteOrder` has been applied, like any 16-bit value.
//
// Scaling: value = raw * scale * 10^sfExponent + offset, computed in exact decimal arithmetic and
// rounded to a double once, so 2301 * 0.1 decodes to 230.1. float32 raw values decode to the
// shortest decimal that is the same float32 (123.456f gives 123.456, not 123.45600128173828); that
// is at most 9 significant digits, and 7 or fewer for any value that was written with 7 or fewer,
// so no two distinct float32 values ever decode to the same number. 64-bit integers are handled as
// BigInt and returned as the nearest JS number.
import { pointWidth, TYPE_REGISTERS } from '../../config/point-width.js';
import type { PointConfig, PointValue } from '../../config/types.js';
import { CodecError } from '../errors.js';
import { add, decimalOf, decimalOfBigInt, divRound, divToNumber, mul, neg, shift, toNumber, type Decimal } from './codec-decimal.js';

type IntegerType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

/** Inclusive raw range of each integer type. */
export const INTEGER_RANGES: Readonly<Record<IntegerType, readonly [bigint, bigint]>> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** SunSpec scale factors are -10..10; anything far outside is a device saying "not implemented". */
const MAX_SF_EXPONENT = 20;

/**
 * The engineering value of a point from its registers (`regs[at]` is the register at `p.address`,
 * `at` 0 unless the registers are a whole read's answer; for coil/discrete, 0 or 1). `sfExponent` is
 * the value of the point named by `p.scaleFactor`. Throws CodecError: BAD_RESPONSE (too few
 * registers, a value that is not a 16-bit register or bit, an absurd scale factor) or POINT_INVALID
 * (a point definition the codec cannot handle).
 */
export function decodePoint(p: PointConfig, regs: ArrayLike<number>, sfExponent = 0, at = 0): PointValue {
  checkPoint(p);
  const width = pointWidth(p);
  if (regs.length - at < width) {
    throw new CodecError('BAD_RESPONSE', p.name, `Point ${p.name}: needs ${width} register(s), got ${Math.max(0, regs.length - at)}`);
  }
  if (p.table === 'coil' || p.table === 'discrete') {
    const bitValue = regs[at];
    if (bitValue !== 0 && bitValue !== 1) {
      throw new CodecError('BAD_RESPONSE', p.name, `Point ${p.name}: ${p.table} value must be 0 or 1, got ${String(bitValue)}`);
    }
    return bitValue === 1;
  }
  // Checked where they are: a poll decodes every point straight from the answer of its read.
  checkRegisters(p, regs, at, width);
  if (p.type === 'string') return decodeString(p, Array.from({ length: width }, (_, i) => regs[at + i] ?? 0));
  if (p.type === 'bool') {
    const word = regs[at] ?? 0;
    const register = p.byteOrder === 'little' ? swapBytes(word) : word;
    return p.bit === undefined ? register !== 0 : ((register >> p.bit) & 1) === 1;
  }
  const view = toView(p, regs, at, width);
  checkScaleFactor(p, sfExponent);
  if (p.type !== 'float32' && p.type !== 'float64' && p.offset === 0) {
    const raw = p.type === 'int64' || p.type === 'uint64' ? Number(readInteger(view, p.type)) : readSmallInteger(view, p.type);
    const fast = scaledByPowerOfTen(raw, p.scale, sfExponent);
    if (fast !== undefined) return fast;
  }
  if (p.type === 'float32' || p.type === 'float64') {
    const raw = p.type === 'float32' ? view.getFloat32(0) : view.getFloat64(0);
    // NaN is what many devices send for "not available"; it stays NaN (published as null).
    if (!Number.isFinite(raw)) return raw * toNumber(scaleStep(p, sfExponent)) + p.offset;
    const text = p.type === 'float32' ? shortestFloat32(raw) : String(raw);
    // Unscaled (most float points): the value is that decimal itself, read once; the arithmetic
    // below would give the same double (one correctly rounded conversion of the same decimal).
    if (p.scale === 1 && sfExponent === 0 && p.offset === 0) return Number(text);
    return toNumber(add(mul(decimalOf(text), scaleStep(p, sfExponent)), constantDecimal(p.offset)));
  }
  return toNumber(add(mul(decimalOfBigInt(readInteger(view, p.type)), scaleStep(p, sfExponent)), constantDecimal(p.offset)));
}

/**
 * The registers to write for an engineering value (for coil points: `[0]` or `[1]`).
 * Integer raw types are rounded to the nearest integer (ties away from zero); float raw types keep
 * the value. A `bit` point needs `currentRegister`, the register as last read from the device, and
 * changes only its bit. Throws CodecError: WRONG_TYPE (a value of the wrong JS type, NaN,
 * Infinity), VALUE_OUT_OF_RANGE (the raw value does not fit the raw type, a string too long),
 * CURRENT_REGISTER_REQUIRED, POINT_INVALID.
 */
export function encodePoint(p: PointConfig, value: PointValue, sfExponent = 0, currentRegister?: number): number[] {
  checkPoint(p);
  if (p.table === 'coil' || p.table === 'discrete') return [boolValue(p, value) ? 1 : 0];
  if (p.type === 'string') return encodeString(p, value);
  if (p.type === 'bool') return [encodeBool(p, boolValue(p, value), currentRegister)];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new CodecError('WRONG_TYPE', p.name, `Point ${p.name} (${p.type}): expected a finite number, got ${describe(value)}`);
  }
  const step = scaleStep(p, sfExponent);
  const rawExact = add(decimalOf(value), neg(decimalOf(p.offset)));
  const view = new DataView(new ArrayBuffer(TYPE_REGISTERS[p.type] * 2));
  if (p.type === 'float32' || p.type === 'float64') {
    const raw = divToNumber(rawExact, step);
    const limit = p.type === 'float32' ? FLOAT32_MAX : Number.MAX_VALUE;
    // Math.fround rounds to the nearest float32; beyond the largest one it gives Infinity.
    if (!Number.isFinite(p.type === 'float32' ? Math.fround(raw) : raw)) {
      throw outOfRange(p, value, String(raw), `${-limit}..${limit}`);
    }
    if (p.type === 'float32') view.setFloat32(0, raw);
    else view.setFloat64(0, raw);
  } else {
    const raw = divRound(rawExact, step);
    const [low, high] = INTEGER_RANGES[p.type];
    if (raw < low || raw > high) throw outOfRange(p, value, String(raw), `${low}..${high}`);
    writeInteger(view, p.type, raw);
  }
  return fromView(p, view);
}

// ---- point checks -------------------------------------------------------------------------------

function checkPoint(p: PointConfig): void {
  const isBitTable = p.table === 'coil' || p.table === 'discrete';
  if (isBitTable && p.type !== 'bool') invalid(p, `type ${p.type} cannot live in the ${p.table} table (bool only)`);
  if (p.bit !== undefined) {
    if (isBitTable) invalid(p, `bit applies to holding/input registers, not ${p.table}`);
    if (p.type !== 'bool') invalid(p, `bit applies to bool points, not ${p.type}`);
    if (!Number.isInteger(p.bit) || p.bit < 0 || p.bit > 15) invalid(p, `bit must be 0..15, got ${p.bit}`);
  }
  if (p.type === 'string' && !isBitTable) checkedStringLength(p);
  if (!Number.isFinite(p.scale) || p.scale === 0) invalid(p, `scale must be a finite non-zero number, got ${p.scale}`);
  if (!Number.isFinite(p.offset)) invalid(p, `offset must be finite, got ${p.offset}`);
}

function checkedStringLength(p: PointConfig): number {
  const length = p.length;
  if (length === undefined || !Number.isInteger(length) || length < 1) {
    invalid(p, `a string point needs length (registers) >= 1, got ${String(length)}`);
  }
  return length;
}

function checkedRegisters(p: PointConfig, regs: ArrayLike<number>, width: number): number[] {
  checkRegisters(p, regs, 0, width);
  return Array.from({ length: width }, (_, i) => regs[i] ?? 0);
}

/** Throws BAD_RESPONSE unless regs[at] .. regs[at + width - 1] are 16-bit values. */
function checkRegisters(p: PointConfig, regs: ArrayLike<number>, at: number, width: number): void {
  for (let i = 0; i < width; i++) {
    const word = regs[at + i];
    if (word === undefined || !Number.isInteger(word) || word < 0 || word > 0xffff) {
      throw new CodecError('BAD_RESPONSE', p.name, `Point ${p.name}: register ${i} is not a 16-bit value: ${String(word)}`);
    }
  }
}

function checkScaleFactor(p: PointConfig, sfExponent: number): void {
  if (!Number.isInteger(sfExponent) || Math.abs(sfExponent) > MAX_SF_EXPONENT) {
    const source = p.scaleFactor === undefined ? '' : ` (${p.scaleFactor})`;
    throw new CodecError(
      'BAD_RESPONSE',
      p.name,
      `Point ${p.name}: scale factor${source} ${sfExponent} is not an integer in -${MAX_SF_EXPONENT}..${MAX_SF_EXPONENT}`,
    );
  }
}

function scaleStep(p: PointConfig, sfExponent: number): Decimal {
  checkScaleFactor(p, sfExponent);
  return shift(constantDecimal(p.scale), sfExponent);
}

/** decimalOf() of the scales and offsets of the config, each worked out once (a handful of distinct values). */
const constantDecimals = new Map<number, Decimal>();

function constantDecimal(x: number): Decimal {
  let d = constantDecimals.get(x);
  if (d === undefined) {
    d = decimalOf(x);
    constantDecimals.set(x, d);
  }
  return d;
}

/** Smallest positive normal float32, 2^-126. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

/** 10^k for k = 0..22: every one of them is exactly representable as a double. */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const powerOfTenExponents = new Map<number, number | null>();

/** k when `scale` is the double nearest to 10^k (1, 10, 0.1, 0.01, ... as written in a profile), else null. */
function powerOfTenExponent(scale: number): number | null {
  let k = powerOfTenExponents.get(scale);
  if (k === undefined) {
    k = null;
    for (let e = -22; e <= 22; e++) {
      if (Number(`1e${e}`) === scale) {
        k = e;
        break;
      }
    }
    powerOfTenExponents.set(scale, k);
  }
  return k;
}

/**
 * The hot path of decoding (most points: an integer register times 10^k): raw * 10^k computed in
 * doubles, or undefined when that would not be exact. Both operands are exact (|raw| < 2^53,
 * 10^|k| for |k| <= 22), so IEEE division or multiplication gives the correctly rounded value of the
 * exact decimal: the same double the decimal arithmetic below arrives at, at a fraction of the cost.
 */
function scaledByPowerOfTen(raw: number, scale: number, sfExponent: number): number | undefined {
  const k0 = powerOfTenExponent(scale);
  if (k0 === null || !Number.isSafeInteger(raw)) return undefined;
  const k = k0 + sfExponent;
  if (k === 0) return raw;
  const power = POWERS_OF_TEN[Math.abs(k)];
  if (power === undefined) return undefined;
  if (k < 0) return raw / power;
  const product = raw * power;
  return Number.isSafeInteger(product) ? product : undefined;
}

function invalid(p: PointConfig, message: string): never {
  throw new CodecError('POINT_INVALID', p.name, `Point ${p.name}: ${message}`);
}

function outOfRange(p: PointConfig, value: PointValue, raw: string, range: string): CodecError {
  const unit = p.unit === undefined ? '' : ` ${p.unit}`;
  return new CodecError(
    'VALUE_OUT_OF_RANGE',
    p.name,
    `Point ${p.name}: value ${String(value)}${unit} gives raw ${raw}, outside the ${p.type} range ${range}`,
  );
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `string ${JSON.stringify(value)}` : `${typeof value} ${String(value)}`;
}

// ---- word and byte order ------------------------------------------------------------------------

function swapBytes(word: number): number {
  return ((word & 0xff) << 8) | (word >> 8);
}

/** Registers with `byteOrder` undone: each one as a big-endian (AB) 16-bit value. */
function orderBytes(p: PointConfig, words: number[]): number[] {
  return p.byteOrder === 'little' ? words.map(swapBytes) : words;
}

/**
 * Scratch bytes for decoding a numeric value (at most 4 registers). Decoding is synchronous and reads
 * the value out before it returns, so one buffer serves every call without an allocation per point.
 */
const SCRATCH = new DataView(new ArrayBuffer(8));

/** Bytes of the raw value, most significant first, from the `n` registers at `regs[at]` as on the wire (scratch view). */
function toView(p: PointConfig, regs: ArrayLike<number>, at: number, n: number): DataView {
  const lowWordFirst = p.wordOrder === 'little';
  const swap = p.byteOrder === 'little';
  for (let i = 0; i < n; i++) {
    const word = regs[at + (lowWordFirst ? n - 1 - i : i)] ?? 0;
    SCRATCH.setUint16(i * 2, swap ? swapBytes(word) : word);
  }
  return SCRATCH;
}

/** Registers as they go on the wire, from the raw value's bytes (most significant first). */
function fromView(p: PointConfig, view: DataView): number[] {
  const highFirst: number[] = [];
  for (let i = 0; i < view.byteLength; i += 2) highFirst.push(view.getUint16(i));
  const ordered = p.wordOrder === 'little' ? highFirst.reverse() : highFirst;
  return orderBytes(p, ordered);
}

function readInteger(view: DataView, type: IntegerType): bigint {
  switch (type) {
    case 'int16': return BigInt(view.getInt16(0));
    case 'uint16': return BigInt(view.getUint16(0));
    case 'int32': return BigInt(view.getInt32(0));
    case 'uint32': return BigInt(view.getUint32(0));
    case 'int64': return view.getBigInt64(0);
    case 'uint64': return view.getBigUint64(0);
  }
}

function readSmallInteger(view: DataView, type: 'int16' | 'uint16' | 'int32' | 'uint32'): number {
  switch (type) {
    case 'int16': return view.getInt16(0);
    case 'uint16': return view.getUint16(0);
    case 'int32': return view.getInt32(0);
    case 'uint32': return view.getUint32(0);
  }
}

function writeInteger(view: DataView, type: IntegerType, raw: bigint): void {
  switch (type) {
    case 'int16': view.setInt16(0, Number(raw)); return;
    case 'uint16': view.setUint16(0, Number(raw)); return;
    case 'int32': view.setInt32(0, Number(raw)); return;
    case 'uint32': view.setUint32(0, Number(raw)); return;
    case 'int64': view.setBigInt64(0, raw); return;
    case 'uint64': view.setBigUint64(0, raw); return;
  }
}

/** The shortest decimal text that reads back as the same float32. */
function shortestFloat32(f: number): string {
  // For a normal float32, starting at 6 digits loses nothing: when a shorter decimal D identifies
  // f, |f - D| is below half a float32 ulp (< 6e-8 relative), far inside half the spacing of 6-digit
  // decimals (>= 5e-7 relative), so toPrecision(6) is D padded with zeros: the same number.
  // Subnormals carry fewer digits and start from 1.
  for (let digits = Math.abs(f) >= FLOAT32_MIN_NORMAL ? 6 : 1; digits < 9; digits++) {
    const text = f.toPrecision(digits);
    if (Math.fround(Number(text)) === f) return text;
  }
  return f.toPrecision(9); // 9 significant digits always identify a float32
}

// ---- bool and string ----------------------------------------------------------------------------

function boolValue(p: PointConfig, value: PointValue): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw new CodecError('WRONG_TYPE', p.name, `Point ${p.name} (bool): expected true, false, 0 or 1, got ${describe(value)}`);
}

function encodeBool(p: PointConfig, on: boolean, currentRegister: number | undefined): number {
  if (p.bit === undefined) return orderBytes(p, [on ? 1 : 0])[0] ?? 0;
  if (currentRegister === undefined) {
    throw new CodecError('CURRENT_REGISTER_REQUIRED', p.name, `Point ${p.name}: writing bit ${p.bit} needs the current register value`);
  }
  const [current = 0] = orderBytes(p, checkedRegisters(p, [currentRegister], 1));
  const mask = 1 << p.bit;
  return orderBytes(p, [on ? current | mask : current & ~mask & 0xffff])[0] ?? 0;
}

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Bytes in register order, NULs and spaces at the end trimmed, read as UTF-8. */
function decodeString(p: PointConfig, words: number[]): string {
  const bytes: number[] = [];
  for (const word of orderBytes(p, words)) bytes.push(word >> 8, word & 0xff);
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x00 || bytes[end - 1] === 0x20)) end--;
  return utf8Decoder.decode(Uint8Array.from(bytes.slice(0, end)));
}

/** UTF-8 bytes, padded with NUL to `length` registers; refuses a string that does not fit. */
function encodeString(p: PointConfig, value: PointValue): number[] {
  if (typeof value !== 'string') {
    throw new CodecError('WRONG_TYPE', p.name, `Point ${p.name} (string): expected a string, got ${describe(value)}`);
  }
  const length = checkedStringLength(p);
  const bytes = utf8Encoder.encode(value);
  if (bytes.length > length * 2) {
    throw new CodecError(
      'VALUE_OUT_OF_RANGE',
      p.name,
      `Point ${p.name}: string of ${bytes.length} UTF-8 bytes does not fit ${length} registers (${length * 2} bytes)`,
    );
  }
  const words: number[] = [];
  for (let i = 0; i < length; i++) words.push(((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  return orderBytes(p, words);
}
