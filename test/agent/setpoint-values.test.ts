// Pure pieces of the setpoint keeper: when a poll's reading is the held value (no drift), and what
// a watchdog register is written with.
import { describe, expect, it } from 'vitest';
import { sameValue, watchdogValue } from '../../src/agent/setpoint-keeper.js';
import type { HoldPlan } from '../../src/agent/hold-plan.js';
import type { PointConfig } from '../../src/config/types.js';

const point = (p: Partial<PointConfig>): PointConfig => ({ name: 'p', table: 'holding', address: 0, type: 'uint16', wordOrder: 'big', byteOrder: 'big', scale: 1, offset: 0, access: 'readwrite', ...p });
const config = (p: Partial<PointConfig>): HoldPlan => ({ kind: 'config', point: point(p), fallback: 0, timer: null, windowMs: null });

describe('sameValue: the held value as the device holds it', () => {
  it('within half a raw step of an integer register', () => {
    const plan = config({ scale: 0.1 });
    expect(sameValue(plan, 33.33, 33.3, null)).toBe(true);
    expect(sameValue(plan, 30, 55.5, null)).toBe(false);
    expect(sameValue(plan, 30, 30.1, null)).toBe(false);
  });

  it('within float32 precision, or equal to what the last write read back', () => {
    expect(sameValue(config({ type: 'float32' }), 33.3, Math.fround(33.3), null)).toBe(true);
    expect(sameValue(config({ type: 'float32' }), 33.3, 33.4, null)).toBe(false);
    expect(sameValue(config({ scaleFactor: 'SF' }), 33.333, 33.3, 33.3)).toBe(true);
  });

  it('a SunSpec control within half its coarsest step; bools as bools', () => {
    const control: HoldPlan = { kind: 'driver', fallback: 100, windowMs: 60000 };
    expect(sameValue(control, 40, 40.3, null)).toBe(true);
    expect(sameValue(control, 40, 100, null)).toBe(false);
    expect(sameValue(config({ type: 'bool' }), 1, true, null)).toBe(true);
    expect(sameValue(config({ type: 'bool' }), true, false, null)).toBe(false);
  });
});

describe('watchdogValue', () => {
  it('counts through min..max, or toggles a bit', () => {
    const counter = point({ min: 5, max: 7 });
    expect([0, 1, 2, 3, 4].map((n) => watchdogValue(counter, n))).toEqual([5, 6, 7, 5, 6]);
    expect([0, 1, 2].map((n) => watchdogValue(point({ type: 'bool', table: 'coil' }), n))).toEqual([true, false, true]);
  });
});
