// Requests per poll for every built-in profile: the read planner against one request per point.
import { describe, expect, it } from 'vitest';
import { loadProfile, profileNames } from '../../src/config/profiles.js';
import type { PointConfig, Table } from '../../src/config/types.js';
import { pointWidth } from '../../src/config/point-width.js';
import { DEFAULT_MAX_GAP, MAX_READ_BITS, MAX_READ_REGISTERS, planReads } from '../../src/drivers/device/planner.js';

/**
 * What any planner can at best achieve for a table: one request, if all its points lie within one
 * request's limit and no gap between them is wider than maxGap.
 */
function oneRequestSuffices(points: PointConfig[], table: Table): boolean {
  const sorted = points.filter((p) => p.table === table).sort((a, b) => a.address - b.address);
  if (sorted.length === 0) return true;
  const limit = table === 'coil' || table === 'discrete' ? MAX_READ_BITS : MAX_READ_REGISTERS;
  let end = sorted[0]?.address ?? 0;
  for (const p of sorted) {
    if (p.address - end > DEFAULT_MAX_GAP) return false;
    end = Math.max(end, p.address + pointWidth(p));
  }
  return end - (sorted[0]?.address ?? 0) <= limit;
}

describe('requests per poll for the built-in profiles', () => {
  const names = profileNames();

  it('finds the three generic profiles', () => {
    expect(names).toEqual(expect.arrayContaining(['generic-inverter', 'generic-turbine', 'generic-bms']));
  });

  it.each(names)('%s', (name) => {
    const points = loadProfile(name);
    const blocks = planReads(points);
    const tables = [...new Set(points.map((p) => p.table))];
    const perPoint = points.length;
    const ratio = perPoint / blocks.length;
    console.log(
      `profile ${name}: ${points.length} points in ${tables.length} table(s): ${blocks.length} request(s) per poll ` +
        `with the planner, ${perPoint} with one per point (${ratio.toFixed(1)}x fewer): ` +
        blocks.map((b) => `${b.table} ${b.address}+${b.count}`).join(', '),
    );

    // Every point is covered by a request of its table.
    for (const p of points) {
      const width = pointWidth(p);
      expect(blocks.some((b) => b.table === p.table && b.address <= p.address && p.address + width <= b.address + b.count)).toBe(true);
    }
    // Requests never mix tables, so one request per table used is the floor for any planner; where
    // a table's points fit one request (span within the limit, no gap over 16), the planner must hit it.
    expect(blocks.length).toBeGreaterThanOrEqual(tables.length);
    if (tables.every((t) => oneRequestSuffices(points, t))) expect(blocks.length).toBe(tables.length);
    // At least 5x fewer requests than points for a profile of 10 or more points — or, when the
    // profile spreads its points over so many tables that 5x is impossible (points < 5 x tables),
    // the floor above.
    if (points.length >= 10) {
      if (points.length >= 5 * tables.length) expect(ratio).toBeGreaterThanOrEqual(5);
      else expect(blocks.length).toBe(tables.length);
    }
  });
});
