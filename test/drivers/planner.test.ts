// Read planning: merging, gaps, the protocol limits, splitting after exception 2, slicing answers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PointConfig, PointType, Table } from '../../src/config/types.js';
import { pointWidth } from '../../src/config/point-width.js';
import { CodecError } from '../../src/drivers/errors.js';
import { planReads, ReadPlan, slice, type ReadBlock } from '../../src/drivers/device/planner.js';
import { point } from './codec-point.js';

let serial = 0;
/** A point with a unique name. */
function at(address: number, type: PointType = 'uint16', table: Table = 'holding', extra: Partial<PointConfig> = {}): PointConfig {
  serial += 1;
  return point({ name: `p${serial}`, address, type, table, ...extra });
}

const reg = (address: number, count: number, table: Table = 'holding'): ReadBlock => ({ table, address, count });

describe('planReads', () => {
  it('merges adjacent points of mixed widths into one request', () => {
    const points = [at(0), at(1, 'int32'), at(3, 'float32'), at(5, 'float64'), at(9, 'string', 'holding', { length: 8 })];
    expect(planReads(points)).toEqual([reg(0, 17)]);
  });

  it('is independent of the order of the points', () => {
    expect(planReads([at(10), at(0), at(5)])).toEqual([reg(0, 11)]);
  });

  it('bridges gaps of 15 and 16 unused registers, not 17', () => {
    // A point at 0 ends at 1; a point at 1 + g leaves g unused registers between them.
    expect(planReads([at(0), at(16)])).toEqual([reg(0, 17)]); // gap 15
    expect(planReads([at(0), at(17)])).toEqual([reg(0, 18)]); // gap 16
    expect(planReads([at(0), at(18)])).toEqual([reg(0, 1), reg(18, 1)]); // gap 17
  });

  it('counts a gap from the end of a wide point', () => {
    expect(planReads([at(0, 'float64'), at(20)])).toEqual([reg(0, 21)]); // ends at 4: gap 16
    expect(planReads([at(0, 'float64'), at(21)])).toEqual([reg(0, 4), reg(21, 1)]); // gap 17
  });

  it('takes maxGap from the options (0 = only adjacent points)', () => {
    expect(planReads([at(0), at(1), at(3)], { maxGap: 0 })).toEqual([reg(0, 2), reg(3, 1)]);
    expect(planReads([at(0), at(40)], { maxGap: 39 })).toEqual([reg(0, 41)]);
  });

  it('reads at most 125 registers per request', () => {
    const full = Array.from({ length: 125 }, (_, i) => at(i));
    expect(planReads(full)).toEqual([reg(0, 125)]);
    expect(planReads([...full, at(125)])).toEqual([reg(0, 125), reg(125, 1)]);
    // Two points 124 apart fit exactly (0..124), 125 apart do not — even with a large maxGap.
    expect(planReads([at(0), at(124)], { maxGap: 200 })).toEqual([reg(0, 125)]);
    expect(planReads([at(0), at(125)], { maxGap: 200 })).toEqual([reg(0, 1), reg(125, 1)]);
  });

  it('never splits a wide point across requests at the 125 limit', () => {
    // 123 registers used, then a float64 at 123..126: it would end at 127 > 125, so it starts the next request.
    const points = [...Array.from({ length: 123 }, (_, i) => at(i)), at(123, 'float64')];
    expect(planReads(points)).toEqual([reg(0, 123), reg(123, 4)]);
    // A float32 at 123..124 still fits exactly.
    expect(planReads([...points.slice(0, 123), at(123, 'float32')])).toEqual([reg(0, 125)]);
  });

  it('honours a smaller maxRegisters for devices that accept less', () => {
    const points = Array.from({ length: 100 }, (_, i) => at(i));
    expect(planReads(points, { maxRegisters: 32 }).map((b) => b.count)).toEqual([32, 32, 32, 4]);
  });

  it('reads at most 2000 coils or discrete inputs per request, with the same gap rule', () => {
    const coils = Array.from({ length: 2001 }, (_, i) => at(i, 'bool', 'coil'));
    expect(planReads(coils)).toEqual([reg(0, 2000, 'coil'), reg(2000, 1, 'coil')]);
    expect(planReads([at(0, 'bool', 'discrete'), at(17, 'bool', 'discrete')])).toEqual([reg(0, 18, 'discrete')]);
    expect(planReads([at(0, 'bool', 'discrete'), at(18, 'bool', 'discrete')])).toEqual([
      reg(0, 1, 'discrete'),
      reg(18, 1, 'discrete'),
    ]);
    // A coil is one bit wide whatever register type would say.
    expect(planReads([at(0, 'bool', 'coil'), at(1999, 'bool', 'coil')], { maxGap: 5000 })).toEqual([reg(0, 2000, 'coil')]);
  });

  it('never merges tables, and orders requests by table (coil, discrete, holding, input) then address', () => {
    const points = [at(50, 'uint16', 'input'), at(0, 'uint16', 'input'), at(3), at(0, 'bool', 'discrete'), at(2, 'bool', 'coil'), at(100)];
    expect(planReads(points)).toEqual([
      reg(2, 1, 'coil'),
      reg(0, 1, 'discrete'),
      reg(3, 1, 'holding'),
      reg(100, 1, 'holding'),
      reg(0, 1, 'input'),
      reg(50, 1, 'input'),
    ]);
  });

  it('reads several bit points of one register once', () => {
    const bits = [0, 3, 7, 15].map((bit) => at(10, 'bool', 'holding', { bit }));
    expect(planReads([...bits, at(11, 'int16')])).toEqual([reg(10, 2)]);
  });

  it('gives a long string wider than 125 registers a request of its own', () => {
    expect(planReads([at(0), at(1, 'string', 'holding', { length: 130 }), at(131)])).toEqual([reg(0, 1), reg(1, 130), reg(131, 1)]);
  });

  it('plans nothing for no points, and refuses limits beyond the protocol', () => {
    expect(planReads([])).toEqual([]);
    expect(() => planReads([at(0)], { maxRegisters: 126 })).toThrow(RangeError);
    expect(() => planReads([at(0)], { maxBits: 2001 })).toThrow(RangeError);
    expect(() => planReads([at(0)], { maxGap: -1 })).toThrow(RangeError);
  });

  it('property: every point is read by exactly one request, within the limits, and no two neighbours could merge', () => {
    const table = fc.constantFrom<Table>('holding', 'input', 'coil', 'discrete');
    const type = fc.constantFrom<PointType>('uint16', 'int32', 'float32', 'uint64', 'bool');
    const arbPoints = fc.array(fc.record({ table, type, address: fc.integer({ min: 0, max: 600 }) }), { maxLength: 80 });
    const opts = fc.record({ maxGap: fc.integer({ min: 0, max: 40 }), maxRegisters: fc.integer({ min: 4, max: 125 }), maxBits: fc.integer({ min: 1, max: 2000 }) });
    fc.assert(
      fc.property(arbPoints, opts, (raw, o) => {
        const points = raw.map((r, i) =>
          point({ name: `q${i}`, table: r.table, address: r.address, type: r.table === 'coil' || r.table === 'discrete' ? 'bool' : r.type }),
        );
        const plan = new ReadPlan(points, o);
        const blocks = plan.blocks();
        const seen = new Map<string, number>();
        blocks.forEach((b, i) => {
          const limit = b.table === 'coil' || b.table === 'discrete' ? o.maxBits : o.maxRegisters;
          expect(b.count).toBeLessThanOrEqual(limit);
          const inBlock = plan.pointsIn(b).sort((x, y) => x.address - y.address);
          for (const p of inBlock) {
            expect(p.table).toBe(b.table);
            expect(p.address).toBeGreaterThanOrEqual(b.address);
            expect(p.address + pointWidth(p)).toBeLessThanOrEqual(b.address + b.count);
            seen.set(p.name, (seen.get(p.name) ?? 0) + 1);
          }
          // Inside a request, no run of unread addresses longer than maxGap.
          let end = b.address;
          for (const p of inBlock) {
            expect(p.address - end).toBeLessThanOrEqual(o.maxGap);
            end = Math.max(end, p.address + pointWidth(p));
          }
          // Minimal: the next request of the same table could not have absorbed its first point.
          const next = blocks[i + 1];
          if (next !== undefined && next.table === b.table) {
            const first = plan.pointsIn(next).reduce((m, p) => (p.address < m.address ? p : m));
            const gap = first.address - (b.address + b.count);
            const merged = Math.max(b.address + b.count, first.address + pointWidth(first)) - b.address;
            expect(gap > o.maxGap || merged > limit).toBe(true);
          }
        });
        expect(seen.size).toBe(points.length);
        expect([...seen.values()].every((n) => n === 1)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('ReadPlan.split after exception 2', () => {
  it('splits at the largest gap, then recursively down to one point, which becomes unreadable', () => {
    const [a, b, c, d, e, f] = [at(0), at(1), at(2), at(10), at(11), at(20)];
    const plan = new ReadPlan([a, b, c, d, e, f].filter((p) => p !== undefined));
    const [whole] = plan.blocks();
    expect(whole).toEqual(reg(0, 21));

    // Gaps: 7 (3..9) and 8 (12..19): split before 20.
    const first = plan.split(whole as ReadBlock);
    expect(first).toEqual([reg(0, 12), reg(20, 1)]);
    expect(plan.blocks()).toEqual([reg(0, 12), reg(20, 1)]);
    expect(plan.pointsIn(first[1] as ReadBlock)).toEqual([f]);

    expect(plan.split(first[0] as ReadBlock)).toEqual([reg(0, 3), reg(10, 2)]);
    // Contiguous points: split nearest the middle.
    expect(plan.split(reg(0, 3))).toEqual([reg(0, 1), reg(1, 2)]);
    expect(plan.split(reg(0, 1))).toEqual([]);
    expect(plan.unreadablePoints()).toEqual([a]);
    expect(plan.isUnreadable(a?.name ?? '')).toBe(true);
    expect(plan.blocks()).toEqual([reg(1, 2), reg(10, 2), reg(20, 1)]);
  });

  it('splits contiguous points in halves, so one bad address among 64 is isolated in log2(64) = 6 splits', () => {
    const points = Array.from({ length: 64 }, (_, i) => at(i));
    const plan = new ReadPlan(points);
    const bad = 37;
    let splits = 0;
    for (;;) {
      const failing = plan.blocks().find((b) => b.address <= bad && bad < b.address + b.count);
      if (failing === undefined) break;
      plan.split(failing);
      splits += 1;
    }
    // 6 halvings leave a single point; the 7th split marks it unreadable.
    expect(splits).toBe(7);
    expect(plan.unreadablePoints().map((p) => p.address)).toEqual([bad]);
  });

  it('sets aside all bit points of a refused register together', () => {
    const bits = [0, 1, 2].map((bit) => at(5, 'bool', 'holding', { bit }));
    const plan = new ReadPlan(bits);
    expect(plan.split(reg(5, 1))).toEqual([]);
    expect(plan.unreadablePoints()).toHaveLength(3);
    expect(plan.blocks()).toEqual([]);
  });

  it('separates overlapping points of different widths before giving up on them', () => {
    const wide = at(10, 'uint32');
    const flag = at(11, 'bool', 'holding', { bit: 4 });
    const plan = new ReadPlan([wide, flag]);
    expect(plan.split(reg(10, 2))).toEqual([reg(10, 2), reg(11, 1)]);
  });

  it('refuses a block that is not in the plan', () => {
    const plan = new ReadPlan([at(0)]);
    expect(() => plan.split(reg(3, 1))).toThrow(RangeError);
  });

  it('converges on a device with holes: the next poll sends no failing request', () => {
    // A device that implements only some addresses; reading any other one gives exception 2.
    const implemented = new Set([0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 14, 30, 31]);
    const points = [0, 2, 4, 8, 12, 14, 30].map((a) => at(a, a === 30 ? 'int32' : 'uint16'));
    const ghost = at(20); // configured, but the device does not have it
    const plan = new ReadPlan([...points, ghost]);
    const refuses = (b: ReadBlock): boolean => Array.from({ length: b.count }, (_, i) => b.address + i).some((a) => !implemented.has(a));

    // One poll: read each block; on exception 2 split and read the parts at once.
    const poll = (): { requests: number; failures: number; read: Set<string> } => {
      let requests = 0;
      let failures = 0;
      const read = new Set<string>();
      const queue = plan.blocks();
      while (queue.length > 0) {
        const block = queue.shift() as ReadBlock;
        requests += 1;
        if (refuses(block)) {
          failures += 1;
          queue.unshift(...plan.split(block));
        } else {
          for (const p of plan.pointsIn(block)) read.add(p.name);
        }
      }
      return { requests, failures, read };
    };

    const first = poll();
    expect(first.failures).toBeGreaterThan(0);
    expect(plan.unreadablePoints()).toEqual([ghost]);
    const second = poll();
    expect(second.failures).toBe(0);
    expect([...second.read].sort()).toEqual(points.map((p) => p.name).sort());
    // Still merged where the device allows: fewer requests than points.
    expect(second.requests).toBeLessThan(points.length);
    expect(plan.blocks().every((b) => !refuses(b))).toBe(true);

    plan.reset();
    expect(plan.unreadablePoints()).toEqual([]);
    expect(plan.blocks()).toEqual(planReads([...points, ghost]));
  });
});

describe('slice', () => {
  it("takes each point's registers from a block's answer", () => {
    const a = at(10);
    const b = at(12, 'float32');
    const c = at(20, 'bool', 'holding', { bit: 2 });
    const plan = new ReadPlan([a, b, c]);
    const [block] = plan.blocks();
    expect(block).toEqual(reg(10, 11));
    const answer = Array.from({ length: 11 }, (_, i) => 100 + i);
    expect(plan.slice(block as ReadBlock, answer, a)).toEqual([100]);
    expect(plan.slice(block as ReadBlock, answer, b)).toEqual([102, 103]);
    expect(slice(block as ReadBlock, answer, c)).toEqual([110]);
  });

  it('takes one bit per coil, and accepts an answer padded to whole bytes', () => {
    const coil = at(9, 'bool', 'coil');
    expect(slice(reg(5, 5, 'coil'), [0, 0, 0, 0, 1, 0, 0, 0], coil)).toEqual([1]);
  });

  it('refuses a short answer (BAD_RESPONSE) and a point outside the block', () => {
    const p = at(12, 'float32');
    expect(() => slice(reg(10, 4), [1, 2, 3], p)).toThrow(CodecError);
    expect(() => slice(reg(10, 4), [1, 2, 3], p)).toThrow(expect.objectContaining({ code: 'BAD_RESPONSE' }));
    expect(() => slice(reg(10, 3), [1, 2, 3], p)).toThrow(RangeError);
    expect(() => slice(reg(12, 2, 'input'), [1, 2], p)).toThrow(RangeError);
  });
});
