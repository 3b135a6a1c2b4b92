// Decoding one SunSpec point: the not-implemented encodings as null, scale factors applied, and the
// values next to the not-implemented ones still numbers.
import { describe, expect, it } from 'vitest';
import { CodecError } from '../../../src/drivers/errors.js';
import { decodeValue } from '../../../src/drivers/sunspec/decode.js';
import { SunSpecDataError } from '../../../src/drivers/sunspec/errors.js';
import { isNotImplemented } from '../../../src/drivers/sunspec/not-implemented.js';
import { scaleFactorExponent } from '../../../src/drivers/sunspec/scale-factor.js';
import type { PointDef, SunSpecType } from '../../../src/drivers/sunspec/types.js';

const SIZE: Record<SunSpecType, number> = {
  int16: 1, uint16: 1, raw16: 1, acc16: 1, enum16: 1, bitfield16: 1, sunssf: 1, count: 1, pad: 1,
  int32: 2, uint32: 2, acc32: 2, enum32: 2, bitfield32: 2, float32: 2, ipaddr: 2,
  int64: 4, uint64: 4, acc64: 4, bitfield64: 4, float64: 4, eui48: 4,
  ipv6addr: 8, string: 4,
};

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('nothing thrown');
}

function def(type: SunSpecType, fields: Partial<PointDef> = {}): PointDef {
  return { name: `p_${type}`, type, size: SIZE[type], access: 'R', mandatory: false, ...fields };
}

describe('not implemented', () => {
  const cases: Array<[SunSpecType, number[]]> = [
    ['int16', [0x8000]],
    ['sunssf', [0x8000]],
    ['int32', [0x8000, 0x0000]],
    ['int64', [0x8000, 0, 0, 0]],
    ['uint16', [0xffff]],
    ['enum16', [0xffff]],
    ['bitfield16', [0xffff]],
    ['count', [0xffff]],
    ['uint32', [0xffff, 0xffff]],
    ['enum32', [0xffff, 0xffff]],
    ['bitfield32', [0xffff, 0xffff]],
    ['uint64', [0xffff, 0xffff, 0xffff, 0xffff]],
    ['bitfield64', [0xffff, 0xffff, 0xffff, 0xffff]],
    ['acc16', [0]],
    ['acc32', [0, 0]],
    ['acc64', [0, 0, 0, 0]],
    ['float32', [0x7fc0, 0x0000]], // the quiet NaN SunSpec names
    ['float32', [0xffc0, 0x0001]], // any NaN
    ['float32', [0x7f80, 0x0000]], // +Infinity: JSON has none
    ['float64', [0x7ff8, 0, 0, 0]],
    ['string', [0, 0, 0, 0]],
    ['ipaddr', [0, 0]],
    ['ipv6addr', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['eui48', [0, 0xffff, 0xffff, 0xffff]],
    ['pad', [0x8000]],
  ];
  it.each(cases)('%s %j is null', (type, regs) => {
    expect(isNotImplemented(type, regs, regs.length)).toBe(true);
    expect(decodeValue(def(type), regs, 0)).toBeNull();
  });

  // One step away from each not-implemented pattern: a real value.
  const neighbours: Array<[SunSpecType, number[], number | string]> = [
    ['int16', [0x8001], -32767],
    ['int16', [0x0000], 0],
    ['sunssf', [0xfffe], -2],
    ['int32', [0x8000, 0x0001], -2147483647],
    ['int64', [0x8000, 0, 0, 1], -(2 ** 63) + 1], // as the nearest JS number, like every 64-bit value
    ['uint16', [0xfffe], 65534],
    ['enum16', [0], 0],
    ['bitfield16', [0x7fff], 0x7fff],
    ['uint32', [0xffff, 0xfffe], 4294967294],
    ['bitfield32', [0, 0], 0],
    ['uint64', [0, 0, 0, 0xffff], 65535],
    ['acc16', [1], 1],
    ['acc32', [0x0001, 0x0000], 65536],
    ['acc64', [0, 0, 0x0001, 0x0000], 65536],
    ['count', [0], 0],
    ['float32', [0x3fc0, 0x0000], 1.5],
    ['float32', [0x0000, 0x0000], 0],
    ['float64', [0xc004, 0, 0, 0], -2.5],
    ['string', [0x4142, 0x4300, 0, 0], 'ABC'],
    ['string', [0x2020, 0, 0, 0], ''],
    ['ipaddr', [0xc0a8, 0x010a], '192.168.1.10'],
    ['ipv6addr', [0x2001, 0x0db8, 0, 0, 0, 0, 0, 1], '2001:db8:0:0:0:0:0:1'],
    ['eui48', [0, 0x001a, 0x2b3c, 0x4d5e], '00:1a:2b:3c:4d:5e'],
  ];
  it.each(neighbours)('%s %j is %j', (type, regs, value) => {
    expect(isNotImplemented(type, regs, regs.length)).toBe(false);
    expect(decodeValue(def(type), regs, 0)).toBe(value);
  });
});

describe('scale factors', () => {
  const cases: Array<[SunSpecType, number[], number | null, number | null]> = [
    ['uint16', [2301], -1, 230.1],
    ['int16', [0xfffb], 2, -500], // -5 × 10^2
    ['uint16', [5000], -2, 50],
    ['uint16', [1], -10, 1e-10],
    ['uint16', [65534], 10, 655340000000000],
    ['acc32', [0x0001, 0x86a0], -3, 100], // 100000 Wh × 10^-3
    ['int32', [0xffff, 0xff38], -1, -20], // -200 × 10^-1
    ['uint64', [0, 0, 0, 123], 3, 123000],
    ['uint16', [2301], null, null], // the scale factor is not implemented: the value is not known
    ['int16', [0x8000], -1, null], // the value itself is not implemented
    ['int16', [0], 0, 0],
  ];
  it.each(cases)('%s %j × 10^%s = %s', (type, regs, sf, value) => {
    expect(decodeValue(def(type, { sf: 'X_SF' }), regs, sf)).toBe(value);
  });

  it('applies a literal scale factor of the definition', () => {
    expect(decodeValue(def('uint16', { sf: -2 }), [12345])).toBe(123.45);
    expect(decodeValue(def('uint16', { sf: 3 }), [7], 0)).toBe(7000);
  });

  it('needs the value of a named scale factor', () => {
    const err = thrown(() => decodeValue(def('uint16', { sf: 'W_SF' }), [1]));
    expect(err).toBeInstanceOf(CodecError);
    expect(err instanceof CodecError && err.code).toBe('POINT_INVALID');
  });

  it.each([
    [0, 0], [-10, -10], [10, 10], [null, null],
  ])('takes the sunssf value %s as exponent %s', (value, exponent) => {
    expect(scaleFactorExponent(value, { model: 103, sfPoint: 'm103_W_SF' })).toBe(exponent);
  });

  it.each([11, -11, 32767, 1.5, 'x', undefined])('refuses the sunssf value %j', (value) => {
    const err = thrown(() => scaleFactorExponent(value, { model: 103, sfPoint: 'm103_W_SF' }));
    expect(err).toBeInstanceOf(SunSpecDataError);
    expect(err instanceof SunSpecDataError && [err.code, err.model]).toEqual(['SCALE_FACTOR_OUT_OF_RANGE', 103]);
    expect(err instanceof Error && err.message).toContain('model 103: scale factor m103_W_SF is');
  });

  it('refuses too few registers and registers that are not 16-bit', () => {
    expect(() => decodeValue(def('uint32'), [1])).toThrow(CodecError);
    expect(() => decodeValue(def('ipaddr'), [0x10000, 1])).toThrow(CodecError);
    expect(() => decodeValue(def('int16'), [-1])).toThrow(CodecError);
  });
});
