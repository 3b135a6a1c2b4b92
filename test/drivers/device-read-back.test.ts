import { describe, expect, it } from 'vitest';
import type { PointConfig } from '../../src/config/types.js';
import { readBackMatches } from '../../src/drivers/device/read-back.js';

function point(over: Partial<PointConfig>): PointConfig {
  return { name: 'p', table: 'holding', address: 0, type: 'uint16', wordOrder: 'big', byteOrder: 'big', scale: 1, offset: 0, access: 'readwrite', ...over };
}

describe('readBackMatches', () => {
  it('accepts what the sent registers decode to', () => {
    expect(readBackMatches(point({ scale: 0.1 }), 50.04, 50, 50)).toBe(true);
  });

  it('integer registers: within half a raw step of the request, scale and scale factor included', () => {
    const p = point({ scale: 0.1 });
    expect(readBackMatches(p, 50.04, 50, 50.1)).toBe(false); // device kept another step
    expect(readBackMatches(p, 50.05, 50.1, 50)).toBe(true); // 0.05 = half of 0.1
    expect(readBackMatches(p, 50, 50, 50.2)).toBe(false);
    const sf = point({ type: 'int16', scaleFactor: 'W_SF' });
    expect(readBackMatches(sf, 1235, 1240, 1230, 1)).toBe(true); // step 10 W: 1230 is 5 W off, half a step
    expect(readBackMatches(sf, 1234, 1230, 1240, 1)).toBe(false); // 6 W off
    expect(readBackMatches(sf, 1234, 1230, 1250, 1)).toBe(false);
  });

  it('float registers: within float precision of the request', () => {
    const p = point({ type: 'float32' });
    const asFloat32 = Math.fround(0.1);
    expect(readBackMatches(p, 0.1, 0.1, asFloat32)).toBe(true);
    expect(readBackMatches(p, 0.1, 0.1, 0.1001)).toBe(false);
    expect(readBackMatches(point({ type: 'float64' }), 1e6, 1e6, 1e6 + 1e-4)).toBe(false);
  });

  it('booleans and strings: exactly', () => {
    expect(readBackMatches(point({ type: 'bool' }), true, true, true)).toBe(true);
    expect(readBackMatches(point({ type: 'bool' }), true, true, false)).toBe(false);
    expect(readBackMatches(point({ type: 'string', length: 4 }), 'ab', 'ab', 'ab')).toBe(true);
    expect(readBackMatches(point({ type: 'string', length: 4 }), 'ab', 'ab', 'ac')).toBe(false);
  });

  it('NaN never matches', () => {
    expect(readBackMatches(point({ type: 'float32' }), 1, 1, Number.NaN)).toBe(false);
  });
});
