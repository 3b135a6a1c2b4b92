// Fixed byte fixtures, computed by hand from the IEEE 754 / two's complement layouts, and the
// codec's refusals (asserted by error class and code).
import { describe, expect, it } from 'vitest';
import type { Order, PointConfig, PointValue } from '../../src/config/types.js';
import { pointWidth } from '../../src/config/point-width.js';
import { decodePoint, encodePoint } from '../../src/drivers/device/codec.js';
import { CodecError, type CodecErrorCode } from '../../src/drivers/errors.js';
import { point } from './codec-point.js';

/** [wordOrder, byteOrder, registers] for the four layouts ABCD, CDAB, BADC, DCBA. */
type Layout = [Order, Order, number[]];

function checkLayouts(base: Omit<PointConfig, 'wordOrder' | 'byteOrder'>, value: PointValue, layouts: Layout[]): void {
  for (const [wordOrder, byteOrder, regs] of layouts) {
    const p = { ...base, wordOrder, byteOrder };
    expect(decodePoint(p, regs), `decode ${wordOrder}/${byteOrder}`).toBe(value);
    expect(encodePoint(p, value), `encode ${wordOrder}/${byteOrder}`).toEqual(regs);
  }
}

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CodecError);
    return err as CodecError;
  }
  throw new Error('expected a CodecError, nothing was thrown');
}

function expectCode(fn: () => unknown, code: CodecErrorCode): void {
  const err = codecError(fn);
  expect(err.code).toBe(code);
  expect(err.retryable).toBe(false);
}

describe('pointWidth', () => {
  it('gives registers per type and one bit for coil/discrete', () => {
    expect(pointWidth(point({ type: 'int16' }))).toBe(1);
    expect(pointWidth(point({ type: 'uint16' }))).toBe(1);
    expect(pointWidth(point({ type: 'bool' }))).toBe(1);
    expect(pointWidth(point({ type: 'bool', bit: 7 }))).toBe(1);
    expect(pointWidth(point({ type: 'int32' }))).toBe(2);
    expect(pointWidth(point({ type: 'uint32' }))).toBe(2);
    expect(pointWidth(point({ type: 'float32' }))).toBe(2);
    expect(pointWidth(point({ type: 'int64' }))).toBe(4);
    expect(pointWidth(point({ type: 'uint64' }))).toBe(4);
    expect(pointWidth(point({ type: 'float64' }))).toBe(4);
    expect(pointWidth(point({ type: 'string', length: 8 }))).toBe(8);
    expect(pointWidth(point({ type: 'bool', table: 'coil' }))).toBe(1);
    expect(pointWidth(point({ type: 'bool', table: 'discrete' }))).toBe(1);
  });
});

describe('fixed fixtures in all four word/byte orders', () => {
  it('float32 123.456 = 0x42F6E979', () => {
    checkLayouts(point({ type: 'float32' }), 123.456, [
      ['big', 'big', [0x42f6, 0xe979]], // ABCD
      ['little', 'big', [0xe979, 0x42f6]], // CDAB
      ['big', 'little', [0xf642, 0x79e9]], // BADC
      ['little', 'little', [0x79e9, 0xf642]], // DCBA
    ]);
  });

  it('int32 -2 = 0xFFFFFFFE', () => {
    checkLayouts(point({ type: 'int32' }), -2, [
      ['big', 'big', [0xffff, 0xfffe]],
      ['little', 'big', [0xfffe, 0xffff]],
      ['big', 'little', [0xffff, 0xfeff]],
      ['little', 'little', [0xfeff, 0xffff]],
    ]);
  });

  it('uint32 305419896 = 0x12345678', () => {
    checkLayouts(point({ type: 'uint32' }), 305419896, [
      ['big', 'big', [0x1234, 0x5678]],
      ['little', 'big', [0x5678, 0x1234]],
      ['big', 'little', [0x3412, 0x7856]],
      ['little', 'little', [0x7856, 0x3412]],
    ]);
  });

  it('uint64 283686952306183 = 0x0001020304050607', () => {
    checkLayouts(point({ type: 'uint64' }), 283686952306183, [
      ['big', 'big', [0x0001, 0x0203, 0x0405, 0x0607]],
      ['little', 'big', [0x0607, 0x0405, 0x0203, 0x0001]],
      ['big', 'little', [0x0100, 0x0302, 0x0504, 0x0706]],
      ['little', 'little', [0x0706, 0x0504, 0x0302, 0x0100]],
    ]);
  });

  it('int64 -2 and the int64 minimum -2^63', () => {
    checkLayouts(point({ type: 'int64' }), -2, [
      ['big', 'big', [0xffff, 0xffff, 0xffff, 0xfffe]],
      ['little', 'big', [0xfffe, 0xffff, 0xffff, 0xffff]],
      ['big', 'little', [0xffff, 0xffff, 0xffff, 0xfeff]],
      ['little', 'little', [0xfeff, 0xffff, 0xffff, 0xffff]],
    ]);
    checkLayouts(point({ type: 'int64' }), -(2 ** 63), [['big', 'big', [0x8000, 0, 0, 0]]]);
  });

  it('uint64 maximum decodes to the nearest double, 2^64', () => {
    expect(decodePoint(point({ type: 'uint64' }), [0xffff, 0xffff, 0xffff, 0xffff])).toBe(2 ** 64);
  });

  it('float64 1.5 = 0x3FF8..., -2.25 = 0xC002..., 0.1 = 0x3FB999999999999A', () => {
    checkLayouts(point({ type: 'float64' }), 1.5, [
      ['big', 'big', [0x3ff8, 0, 0, 0]],
      ['little', 'big', [0, 0, 0, 0x3ff8]],
      ['big', 'little', [0xf83f, 0, 0, 0]],
      ['little', 'little', [0, 0, 0, 0xf83f]],
    ]);
    checkLayouts(point({ type: 'float64' }), -2.25, [['big', 'big', [0xc002, 0, 0, 0]]]);
    checkLayouts(point({ type: 'float64' }), 0.1, [
      ['big', 'big', [0x3fb9, 0x9999, 0x9999, 0x999a]],
      ['little', 'big', [0x999a, 0x9999, 0x9999, 0x3fb9]],
    ]);
  });

  it('int16 and uint16 with byte order', () => {
    checkLayouts(point({ type: 'int16' }), -2, [
      ['big', 'big', [0xfffe]],
      ['big', 'little', [0xfeff]],
    ]);
    checkLayouts(point({ type: 'uint16' }), 0x1234, [
      ['big', 'big', [0x1234]],
      ['little', 'big', [0x1234]], // word order means nothing for one register
      ['big', 'little', [0x3412]],
    ]);
  });
});

describe('float32 decoding', () => {
  it('gives the value as written, without float32 noise', () => {
    expect(decodePoint(point({ type: 'float32' }), [0x3dcc, 0xcccd])).toBe(0.1); // float32 0.1
  });

  it('does not merge distinct float32 values (16777218 needs 8 digits)', () => {
    // 0x4B800001 = 2^24 + 2; rounding to 7 significant digits would give 16777220.
    expect(decodePoint(point({ type: 'float32' }), [0x4b80, 0x0001])).toBe(16777218);
  });

  it('keeps NaN (many devices send it for "not available")', () => {
    expect(decodePoint(point({ type: 'float32' }), [0x7fc0, 0x0000])).toBeNaN();
  });

  it('applies scale to the float value', () => {
    // 0x449A5000 = 1234.5 (exponent 137 = 2^10, mantissa 1.2055664...)
    expect(decodePoint(point({ type: 'float32', scale: 0.001 }), [0x449a, 0x5000])).toBe(1.2345);
  });
});

describe('scale, offset and scale factor', () => {
  it('int16 with scale 0.1: 2301 = 0x08FD is 230.1, -125 = 0xFF83 is -12.5', () => {
    const p = point({ type: 'int16', scale: 0.1 });
    expect(decodePoint(p, [0x08fd])).toBe(230.1);
    expect(decodePoint(p, [0xff83])).toBe(-12.5);
    expect(encodePoint(p, 230.1)).toEqual([0x08fd]);
    expect(encodePoint(p, -12.5)).toEqual([0xff83]);
  });

  it('rounds writes to the nearest raw integer, ties away from zero', () => {
    const p = point({ type: 'int16', scale: 0.1 });
    expect(encodePoint(p, 230.14)).toEqual([2301]);
    expect(encodePoint(p, 230.15)).toEqual([2302]); // 2301.5 -> 2302
    expect(encodePoint(p, -12.55)).toEqual([0xff82]); // -125.5 -> -126
    expect(encodePoint(point({ type: 'uint16' }), 0.5)).toEqual([1]);
    expect(encodePoint(point({ type: 'uint16' }), 41.49)).toEqual([41]);
  });

  it('uint16 with offset -40 and scale 0.5: raw 150 is 35', () => {
    const p = point({ type: 'uint16', scale: 0.5, offset: -40 });
    expect(decodePoint(p, [150])).toBe(35);
    expect(encodePoint(p, 35)).toEqual([150]);
    expect(decodePoint(p, [0])).toBe(-40);
  });

  it('uint32 0x0001E240 = 123456 with SunSpec scale factor -2 is 1234.56, with +1 is 1234560', () => {
    const p = point({ type: 'uint32', scaleFactor: 'W_SF' });
    expect(decodePoint(p, [0x0001, 0xe240], -2)).toBe(1234.56);
    expect(decodePoint(p, [0x0001, 0xe240], 1)).toBe(1234560);
    expect(encodePoint(p, 1234.56, -2)).toEqual([0x0001, 0xe240]);
  });

  it('combines scale, scale factor and offset: 2301 * 0.5 * 10^-1 + 0.25 = 115.3', () => {
    const p = point({ type: 'int16', scale: 0.5, offset: 0.25 });
    expect(decodePoint(p, [2301], -1)).toBe(115.3);
    expect(encodePoint(p, 115.3, -1)).toEqual([2301]);
  });

  it('refuses an absurd scale factor (SunSpec 0x8000 = not implemented)', () => {
    expectCode(() => decodePoint(point({ type: 'int16', scaleFactor: 'W_SF' }), [1], -32768), 'BAD_RESPONSE');
    expectCode(() => decodePoint(point({ type: 'int16' }), [1], 0.5), 'BAD_RESPONSE');
  });
});

describe('bool', () => {
  it('coil and discrete: one bit, 0 or 1', () => {
    const coil = point({ type: 'bool', table: 'coil' });
    expect(decodePoint(coil, [1])).toBe(true);
    expect(decodePoint(point({ type: 'bool', table: 'discrete' }), [0])).toBe(false);
    expect(encodePoint(coil, true)).toEqual([1]);
    expect(encodePoint(coil, false)).toEqual([0]);
    expect(encodePoint(coil, 1)).toEqual([1]);
    expect(encodePoint(coil, 0)).toEqual([0]);
  });

  it('a register without bit: 0 is false, anything else true', () => {
    const p = point({ type: 'bool' });
    expect(decodePoint(p, [0])).toBe(false);
    expect(decodePoint(p, [7])).toBe(true);
    expect(decodePoint(p, [0x8000])).toBe(true);
    expect(encodePoint(p, true)).toEqual([1]);
    expect(encodePoint(p, false)).toEqual([0]);
  });

  it('bit N of a register, 0 = least significant', () => {
    expect(decodePoint(point({ type: 'bool', bit: 3 }), [0x0008])).toBe(true);
    expect(decodePoint(point({ type: 'bool', bit: 2 }), [0x0008])).toBe(false);
    expect(decodePoint(point({ type: 'bool', bit: 15 }), [0x8000])).toBe(true);
    expect(decodePoint(point({ type: 'bool', bit: 0 }), [0x8000])).toBe(false);
    // byteOrder little: the register's bytes are swapped first, so 0x0800 holds bit 3.
    expect(decodePoint(point({ type: 'bool', bit: 3, byteOrder: 'little' }), [0x0800])).toBe(true);
  });

  it('writing a bit changes only that bit of the current register', () => {
    expect(encodePoint(point({ type: 'bool', bit: 3 }), false, 0, 0x00f8)).toEqual([0x00f0]);
    expect(encodePoint(point({ type: 'bool', bit: 0 }), true, 0, 0x00f0)).toEqual([0x00f1]);
    expect(encodePoint(point({ type: 'bool', bit: 15 }), true, 0, 0x0001)).toEqual([0x8001]);
    expect(encodePoint(point({ type: 'bool', bit: 15 }), false, 0, 0xffff)).toEqual([0x7fff]);
    expect(encodePoint(point({ type: 'bool', bit: 3, byteOrder: 'little' }), true, 0, 0x0001)).toEqual([0x0801]);
  });

  it('writing a bit without the current register is refused', () => {
    expectCode(() => encodePoint(point({ type: 'bool', bit: 3 }), true), 'CURRENT_REGISTER_REQUIRED');
  });
});

describe('string', () => {
  const serial = point({ type: 'string', length: 4 });

  it('"SN-123" in 4 registers: 0x534E 0x2D31 0x3233, NUL padded', () => {
    expect(encodePoint(serial, 'SN-123')).toEqual([0x534e, 0x2d31, 0x3233, 0x0000]);
    expect(decodePoint(serial, [0x534e, 0x2d31, 0x3233, 0x0000])).toBe('SN-123');
    const swapped = { ...serial, byteOrder: 'little' as const };
    expect(encodePoint(swapped, 'SN-123')).toEqual([0x4e53, 0x312d, 0x3332, 0x0000]);
    expect(decodePoint(swapped, [0x4e53, 0x312d, 0x3332, 0x0000])).toBe('SN-123');
  });

  it('trims trailing spaces and NULs, keeps inner ones', () => {
    expect(decodePoint(serial, [0x534e, 0x2d31, 0x3233, 0x2020])).toBe('SN-123');
    expect(decodePoint(serial, [0x534e, 0x2031, 0x3200, 0x2000])).toBe('SN 12');
    expect(decodePoint(serial, [0, 0, 0, 0])).toBe('');
  });

  it('is UTF-8: "é" = 0xC3 0xA9', () => {
    expect(encodePoint(serial, 'é')).toEqual([0xc3a9, 0, 0, 0]);
    expect(decodePoint(serial, [0xc3a9, 0, 0, 0])).toBe('é');
  });

  it('fills the registers exactly and refuses one byte more', () => {
    expect(encodePoint(serial, 'SN-12345')).toEqual([0x534e, 0x2d31, 0x3233, 0x3435]);
    expectCode(() => encodePoint(serial, 'SN-123456'), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(serial, 'ééééé'), 'VALUE_OUT_OF_RANGE'); // 10 bytes in 8
  });
});

describe('refusals', () => {
  it('raw values outside the raw type: VALUE_OUT_OF_RANGE', () => {
    expectCode(() => encodePoint(point({ type: 'uint16' }), 65536), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'uint16' }), -1), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'uint16' }), -0.5), 'VALUE_OUT_OF_RANGE'); // rounds to -1
    expect(encodePoint(point({ type: 'uint16' }), -0.49)).toEqual([0]); // rounds to 0
    expect(encodePoint(point({ type: 'int16', scale: 0.1 }), 3276.7)).toEqual([32767]);
    expectCode(() => encodePoint(point({ type: 'int16', scale: 0.1 }), 3276.8), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'int16' }), -32769), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'uint32' }), 2 ** 32), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'int32' }), -(2 ** 31) - 1), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'uint64' }), 2 ** 64), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'int64' }), 2 ** 63), 'VALUE_OUT_OF_RANGE');
    expect(encodePoint(point({ type: 'int64' }), -(2 ** 63))).toEqual([0x8000, 0, 0, 0]);
    expectCode(() => encodePoint(point({ type: 'float32' }), 3.5e38), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'float64', scale: 0.1 }), 1e308), 'VALUE_OUT_OF_RANGE');
    expectCode(() => encodePoint(point({ type: 'uint16', scaleFactor: 'SF' }), 1000, -2), 'VALUE_OUT_OF_RANGE');
  });

  it('the error names the point', () => {
    const err = codecError(() => encodePoint(point({ name: 'activePowerLimit', type: 'uint16' }), 70000));
    expect(err.point).toBe('activePowerLimit');
  });

  it('values of the wrong JS type, NaN and Infinity: WRONG_TYPE', () => {
    const numeric = point({ type: 'uint16' });
    expectCode(() => encodePoint(numeric, '50'), 'WRONG_TYPE');
    expectCode(() => encodePoint(numeric, true), 'WRONG_TYPE');
    expectCode(() => encodePoint(numeric, Number.NaN), 'WRONG_TYPE');
    expectCode(() => encodePoint(numeric, Number.POSITIVE_INFINITY), 'WRONG_TYPE');
    expectCode(() => encodePoint(point({ type: 'float32' }), Number.NEGATIVE_INFINITY), 'WRONG_TYPE');
    expectCode(() => encodePoint(point({ type: 'bool' }), 2), 'WRONG_TYPE');
    expectCode(() => encodePoint(point({ type: 'bool', table: 'coil' }), 'true'), 'WRONG_TYPE');
    expectCode(() => encodePoint(point({ type: 'string', length: 2 }), 5), 'WRONG_TYPE');
  });

  it('registers that are not a valid answer: BAD_RESPONSE', () => {
    expectCode(() => decodePoint(point({ type: 'float32' }), [0x42f6]), 'BAD_RESPONSE');
    expectCode(() => decodePoint(point({ type: 'uint16' }), [70000]), 'BAD_RESPONSE');
    expectCode(() => decodePoint(point({ type: 'uint16' }), [-1]), 'BAD_RESPONSE');
    expectCode(() => decodePoint(point({ type: 'uint16' }), [1.5]), 'BAD_RESPONSE');
    expectCode(() => decodePoint(point({ type: 'bool', table: 'coil' }), [2]), 'BAD_RESPONSE');
  });

  it('point definitions the codec cannot handle: POINT_INVALID', () => {
    expectCode(() => decodePoint(point({ type: 'float32', table: 'coil' }), [0]), 'POINT_INVALID');
    expectCode(() => decodePoint(point({ type: 'bool', bit: 16 }), [0]), 'POINT_INVALID');
    expectCode(() => decodePoint(point({ type: 'int16', bit: 1 }), [0]), 'POINT_INVALID');
    expectCode(() => decodePoint(point({ type: 'bool', table: 'discrete', bit: 1 }), [0]), 'POINT_INVALID');
    expectCode(() => decodePoint(point({ type: 'string' }), [0]), 'POINT_INVALID');
    expectCode(() => encodePoint(point({ type: 'uint16', scale: 0 }), 1), 'POINT_INVALID');
  });
});
