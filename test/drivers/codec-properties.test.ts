// Round-trip properties of the codec over every type, both word orders and both byte orders, `bit`,
// `string`, scale/offset/scaleFactor; and decoding checked against Node's Buffer readers as an
// independent reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Order, PointConfig, PointType } from '../../src/config/types.js';
import { pointWidth } from '../../src/config/point-width.js';
import { decodePoint, encodePoint, INTEGER_RANGES } from '../../src/drivers/device/codec.js';
import { CodecError } from '../../src/drivers/errors.js';
import { point } from './codec-point.js';

type NumericType = Exclude<PointType, 'bool' | 'string'>;
type IntegerType = Exclude<NumericType, 'float32' | 'float64'>;

const INTEGER_TYPES: IntegerType[] = ['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];
const NUMERIC_TYPES: NumericType[] = [...INTEGER_TYPES, 'float32', 'float64'];

const order = fc.constantFrom<Order>('big', 'little');
const word = fc.integer({ min: 0, max: 0xffff });
const scale = fc.constantFrom(1, 0.1, 0.01, 0.001, 0.5, 0.25, 2, 10, -0.1);
const offset = fc.constantFrom(0, -40, 0.5, 273.15, -1000);
const sfExponent = fc.integer({ min: -3, max: 3 });

/** Registers as on the wire -> a Buffer holding the value big-endian, built with Buffer's own API. */
function referenceBuffer(p: PointConfig, regs: number[]): Buffer {
  const ordered = p.wordOrder === 'little' ? [...regs].reverse() : regs;
  const buf = Buffer.alloc(ordered.length * 2);
  ordered.forEach((w, i) => {
    if (p.byteOrder === 'little') buf.writeUInt16LE(w, i * 2);
    else buf.writeUInt16BE(w, i * 2);
  });
  return buf;
}

function referenceDecode(type: NumericType, buf: Buffer): number {
  switch (type) {
    case 'int16': return buf.readInt16BE(0);
    case 'uint16': return buf.readUInt16BE(0);
    case 'int32': return buf.readInt32BE(0);
    case 'uint32': return buf.readUInt32BE(0);
    case 'int64': return Number(buf.readBigInt64BE(0));
    case 'uint64': return Number(buf.readBigUInt64BE(0));
    case 'float32': return buf.readFloatBE(0);
    case 'float64': return buf.readDoubleBE(0);
  }
}

/** A numeric point of any type and layout, with the registers for it. */
const layoutAndRegisters = fc
  .record({ type: fc.constantFrom(...NUMERIC_TYPES), wordOrder: order, byteOrder: order })
  .chain(({ type, wordOrder, byteOrder }) => {
    const p = point({ type, wordOrder, byteOrder });
    return fc.tuple(fc.constant(p), fc.array(word, { minLength: pointWidth(p), maxLength: pointWidth(p) }));
  });

describe('codec properties', () => {
  it('decode agrees with Buffer readers for every numeric type and layout', () => {
    fc.assert(
      fc.property(layoutAndRegisters, ([p, regs]) => {
        const expected = referenceDecode(p.type as NumericType, referenceBuffer(p, regs));
        const actual = decodePoint(p, regs);
        if (Number.isNaN(expected)) expect(actual).toBeNaN();
        else if (p.type === 'float32') expect(Math.fround(actual as number)).toBe(expected);
        else expect(actual).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('registers -> value -> registers is the identity (exact values: no NaN, no -0, |int64| < 2^53)', () => {
    fc.assert(
      fc.property(layoutAndRegisters, ([p, regs]) => {
        const value = referenceDecode(p.type as NumericType, referenceBuffer(p, regs));
        fc.pre(!Number.isNaN(value) && !Object.is(value, -0) && Math.abs(value) < 2 ** 53);
        expect(encodePoint(p, decodePoint(p, regs))).toEqual(regs);
      }),
      { numRuns: 2000 },
    );
  });

  it('64-bit registers beyond 2^53 come back within the double spacing, or refused at 2^64 / 2^63', () => {
    const wide = fc.record({ type: fc.constantFrom<IntegerType>('int64', 'uint64'), wordOrder: order, byteOrder: order });
    fc.assert(
      fc.property(wide, fc.array(word, { minLength: 4, maxLength: 4 }), (layout, regs) => {
        const p = point(layout);
        const buf = referenceBuffer(p, regs);
        const raw = layout.type === 'int64' ? buf.readBigInt64BE(0) : buf.readBigUInt64BE(0);
        const value = decodePoint(p, regs) as number;
        const [, high] = INTEGER_RANGES[layout.type];
        if (BigInt(value) > high) {
          // The nearest double of a raw value just below 2^64 (2^63) is 2^64 (2^63): not writable.
          expect(() => encodePoint(p, value)).toThrow(CodecError);
          return;
        }
        const back = referenceBuffer(p, encodePoint(p, value));
        const rawBack = layout.type === 'int64' ? back.readBigInt64BE(0) : back.readBigUInt64BE(0);
        const diff = rawBack > raw ? rawBack - raw : raw - rawBack;
        // Doubles near 2^64 are 4096 apart, so the error of one rounding is at most 2048.
        expect(diff <= 2048n).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('integer types with scale, offset and scale factor: raw -> value -> raw is the identity', () => {
    const config = fc.record({
      type: fc.constantFrom(...INTEGER_TYPES),
      wordOrder: order,
      byteOrder: order,
      scale,
      offset,
    });
    fc.assert(
      fc.property(config, sfExponent, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (cfg, sf, seed) => {
        const p = point(cfg);
        const [low, high] = INTEGER_RANGES[cfg.type];
        // Keep |raw| below 2^45 so that the engineering value is exact to far better than 1/2 step.
        const span = (high < 2n ** 45n ? high : 2n ** 45n) - (low > -(2n ** 45n) ? low : -(2n ** 45n)) + 1n;
        const raw = (low > -(2n ** 45n) ? low : -(2n ** 45n)) + (((seed % span) + span) % span);
        const regs = encodePoint(point({ type: cfg.type, wordOrder: cfg.wordOrder, byteOrder: cfg.byteOrder }), Number(raw));
        const value = decodePoint(p, regs, sf);
        expect(encodePoint(p, value, sf)).toEqual(regs);
      }),
      { numRuns: 2000 },
    );
  });

  it('integer types: value -> raw -> value is within half a raw step, and out-of-range raws are refused', () => {
    const config = fc.record({ type: fc.constantFrom(...INTEGER_TYPES), wordOrder: order, byteOrder: order, scale, offset });
    // raw = an integer a little beyond the type's range on either side, plus a fraction below 1/2 step.
    const rawPick = fc.tuple(fc.integer({ min: 0, max: 100 }), fc.boolean(), fc.double({ min: -0.49, max: 0.49, noNaN: true }));
    fc.assert(
      fc.property(config, sfExponent, rawPick, (cfg, sf, [k, nearHigh, fraction]) => {
        const p = point(cfg);
        const [low, high] = INTEGER_RANGES[cfg.type];
        // For 64-bit types stay near 2^45 instead of the true edges, where doubles are coarser than a step.
        const edge = nearHigh ? (high > 2n ** 45n ? 2n ** 45n : high) : low < -(2n ** 45n) ? -(2n ** 45n) : low;
        const rawInt = nearHigh ? edge - 50n + BigInt(k) : edge + 50n - BigInt(k);
        const step = cfg.scale * 10 ** sf;
        const value = (Number(rawInt) + fraction) * step + cfg.offset;
        if (rawInt < low || rawInt > high) {
          expect(() => encodePoint(p, value, sf)).toThrow(expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }));
          return;
        }
        const back = decodePoint(p, encodePoint(p, value, sf), sf) as number;
        // Half a step, plus a little for the float error of building `value` above.
        expect(Math.abs(back - value)).toBeLessThanOrEqual(Math.abs(step) * 0.5 * (1 + 1e-6) + Math.abs(value) * 1e-15);
      }),
      { numRuns: 2000 },
    );
  });

  it('float types with scale and offset: value -> registers -> value within float precision', () => {
    const config = fc.record({ type: fc.constantFrom<NumericType>('float32', 'float64'), wordOrder: order, byteOrder: order, scale, offset });
    fc.assert(
      fc.property(config, sfExponent, fc.double({ min: -1e30, max: 1e30, noNaN: true }), (cfg, sf, value) => {
        const p = point(cfg);
        const back = decodePoint(p, encodePoint(p, value, sf), sf) as number;
        // float32 keeps 24 significant bits (relative 2^-24), float64 53: allow twice that, of the
        // raw value in engineering units (|value - offset|) and of the value (the final rounding).
        // Below the smallest float32 (2^-149) a raw value rounds to 0 or 2^-149: that much absolute.
        const step = Math.abs(cfg.scale * 10 ** sf);
        const relative = cfg.type === 'float32' ? 2 ** -23 : 2 ** -52;
        const absolute = (cfg.type === 'float32' ? 2 ** -149 : 2 ** -1074) * step;
        const bound = relative * (Math.abs(value - cfg.offset) + Math.abs(value)) + absolute;
        expect(Math.abs(back - value)).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 2000 },
    );
  });

  it('float32 decodes to a number that is the same float32 and is never longer than needed', () => {
    fc.assert(
      fc.property(order, order, fc.float({ noNaN: true, noDefaultInfinity: true }), (wordOrder, byteOrder, f) => {
        fc.pre(!Object.is(f, -0));
        const p = point({ type: 'float32', wordOrder, byteOrder });
        const value = decodePoint(p, encodePoint(p, f)) as number;
        expect(Math.fround(value)).toBe(f);
        // Shortest: one significant digit less would name another float32 (or not this one).
        const digits = value.toExponential().replace(/e.*$/, '').replace(/[-.]/g, '').length;
        if (digits > 1) expect(Math.fround(Number(f.toPrecision(digits - 1)))).not.toBe(f);
      }),
      { numRuns: 2000 },
    );
  });

  it('bit: writing changes only that bit, and reads back', () => {
    fc.assert(
      fc.property(word, fc.integer({ min: 0, max: 15 }), fc.boolean(), order, (current, bit, on, byteOrder) => {
        const p = point({ type: 'bool', bit, byteOrder });
        const [written] = encodePoint(p, on, 0, current);
        expect(written).toBeDefined();
        expect(decodePoint(p, [written ?? -1])).toBe(on);
        // All other bits equal to the current register (compared on the wire: byte order applies to the mask).
        const mask = byteOrder === 'little' ? ((1 << bit) >> 8) | (((1 << bit) & 0xff) << 8) : 1 << bit;
        expect(((written ?? 0) ^ current) & ~mask & 0xffff).toBe(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('bool in a register, coil or discrete reads back', () => {
    const table = fc.constantFrom<PointConfig['table']>('holding', 'input', 'coil', 'discrete');
    fc.assert(
      fc.property(table, order, fc.boolean(), (t, byteOrder, on) => {
        const p = point({ type: 'bool', table: t, byteOrder });
        expect(decodePoint(p, encodePoint(p, on))).toBe(on);
        expect(decodePoint(p, encodePoint(p, on ? 1 : 0))).toBe(on);
      }),
    );
  });

  it('string: value -> registers -> value, with trailing NULs and spaces trimmed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), order, fc.string({ unit: 'binary', maxLength: 32 }), (length, byteOrder, s) => {
        const p = point({ type: 'string', length, byteOrder });
        const bytes = Buffer.byteLength(s, 'utf8');
        if (bytes > length * 2) {
          expect(() => encodePoint(p, s)).toThrow(expect.objectContaining({ code: 'VALUE_OUT_OF_RANGE' }));
          return;
        }
        const regs = encodePoint(p, s);
        expect(regs).toHaveLength(length);
        expect(decodePoint(p, regs)).toBe(s.replace(/[\0 ]+$/, ''));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('integer points scaled by a power of ten', () => {
  // decodePoint computes raw * 10^k in doubles for these (the hot path); it must give the double
  // nearest to the exact decimal, which is what Number('<raw>e<k>') parses to.
  it('equal the correctly rounded decimal raw * 10^(scale exponent + scale factor)', () => {
    const scales = [1, 10, 100, 0.1, 0.01, 0.001, 0.0001];
    fc.assert(
      fc.property(
        fc.constantFrom<PointType>('int16', 'uint16', 'int32', 'uint32'),
        fc.constantFrom(...scales),
        fc.integer({ min: -6, max: 6 }),
        fc.array(word, { minLength: 2, maxLength: 2 }),
        (type, scale, sf, regs) => {
          const p = point({ type, scale });
          const raw = decodePoint(point({ type }), regs) as number;
          const k = Math.round(Math.log10(scale)) + sf;
          expect(decodePoint(p, regs, sf)).toBe(Number(`${raw}e${k}`));
        },
      ),
    );
  });
});
