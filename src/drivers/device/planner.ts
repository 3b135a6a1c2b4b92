// Read planning: which Modbus read requests fetch a device's points. Pure: no I/O.
//
// Points of one table are merged into as few requests as the protocol allows (125 registers per
// read of holding/input registers, 2000 bits per read of coils/discrete inputs), reading through
// gaps of up to `maxGap` unused addresses. Devices that refuse a merged read with exception 2
// (illegal data address: some address inside a gap, or a point, does not exist) get their plan split
// by `ReadPlan.split` until every request works; the plan keeps what it learned.
import type { PointConfig, Table } from '../../config/types.js';
import { pointWidth } from '../../config/point-width.js';
import { CodecError } from '../errors.js';

export interface ReadBlock {
  readonly table: Table;
  /** First address read (0-based protocol address). */
  readonly address: number;
  /** Registers (holding/input) or bits (coil/discrete) read. */
  readonly count: number;
}

export interface PlanOptions {
  /** Unused addresses that may be read through between two points; default 16. */
  maxGap?: number;
  /** Registers per read of holding/input registers; default and protocol maximum 125. */
  maxRegisters?: number;
  /** Bits per read of coils/discrete inputs; default and protocol maximum 2000. */
  maxBits?: number;
}

export const DEFAULT_MAX_GAP = 16;
/** Modbus Application Protocol v1.1b3: FC3/FC4 read at most 125 registers, FC1/FC2 2000 bits. */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;

/** Requests go out in this table order, then by address. */
export const TABLE_ORDER: readonly Table[] = ['coil', 'discrete', 'holding', 'input'];

/** A request and the points it was planned for. */
interface Group {
  block: ReadBlock;
  points: PointConfig[];
}

interface Limits {
  maxGap: number;
  maxRegisters: number;
  maxBits: number;
}

/** The requests that read all `points`: per table, in address order, as few as the limits allow. */
export function planReads(points: readonly PointConfig[], opts: PlanOptions = {}): ReadBlock[] {
  return planGroups(points, limitsOf(opts)).map((g) => g.block);
}

/**
 * The read plan of one device. It starts as `planReads` and adapts: after the device answered a
 * request with exception 2, `split(block)` replaces that request by smaller ones, and a single point
 * that the device still refuses is set aside as unreadable instead of being asked for every cycle.
 */
export class ReadPlan {
  private readonly points: readonly PointConfig[];
  private readonly limits: Limits;
  private groups: Group[];
  private readonly unreadable = new Map<string, PointConfig>();

  constructor(points: readonly PointConfig[], opts: PlanOptions = {}) {
    this.points = [...points];
    this.limits = limitsOf(opts);
    this.groups = planGroups(this.points, this.limits);
  }

  /** The requests of one poll, in order. */
  blocks(): ReadBlock[] {
    return this.groups.map((g) => g.block);
  }

  /** The points a request of this plan reads. */
  pointsIn(block: ReadBlock): PointConfig[] {
    return [...this.group(block).points];
  }

  /** The registers (or bits) of `point` from the answer to `block`. */
  slice(block: ReadBlock, answer: ArrayLike<number>, point: PointConfig): number[] {
    return slice(block, answer, point);
  }

  /** Where the registers (or bit) of `point` start in the answer to `block`: checked as slice() does, nothing copied. */
  offsetOf(block: ReadBlock, answer: ArrayLike<number>, point: PointConfig): number {
    return offsetIn(block, answer, point);
  }

  /**
   * The device answered `block` with exception 2: replace it in the plan by smaller requests and
   * return them (to be read now, and from now on instead of `block`). The split is at the largest
   * gap between the block's points (ties: nearest the middle), so a bad address is found in about
   * log2(points) steps. A block of a single point (or of points sharing the same registers) cannot
   * be split: its points become unreadable and the result is empty.
   */
  split(block: ReadBlock): ReadBlock[] {
    const index = this.groups.indexOf(this.group(block));
    const group = this.groups[index];
    if (group === undefined) throw new RangeError(`block ${describeBlock(block)} is not in this plan`);
    const parts = splitGroup(group);
    if (parts.length === 0) for (const p of group.points) this.unreadable.set(p.name, p);
    this.groups = [...this.groups.slice(0, index), ...parts, ...this.groups.slice(index + 1)];
    return parts.map((g) => g.block);
  }

  /** Points set aside because the device refuses to read them (exception 2 on their own). */
  unreadablePoints(): PointConfig[] {
    return [...this.unreadable.values()];
  }

  isUnreadable(pointName: string): boolean {
    return this.unreadable.has(pointName);
  }

  /** Forget what was learned (e.g. after the device was replaced): back to the merged plan. */
  reset(): void {
    this.unreadable.clear();
    this.groups = planGroups(this.points, this.limits);
  }

  private group(block: ReadBlock): Group {
    const found =
      this.groups.find((g) => g.block === block) ??
      this.groups.find((g) => g.block.table === block.table && g.block.address === block.address && g.block.count === block.count);
    if (found === undefined) throw new RangeError(`block ${describeBlock(block)} is not in this plan`);
    return found;
  }
}

/**
 * The registers (or bits) of `point` from the answer to `block`. Throws CodecError BAD_RESPONSE
 * when the answer is shorter than the block says, RangeError when the point is not in the block.
 */
export function slice(block: ReadBlock, answer: ArrayLike<number>, point: PointConfig): number[] {
  const from = offsetIn(block, answer, point);
  const out: number[] = [];
  for (let i = 0; i < pointWidth(point); i++) out.push(answer[from + i] ?? 0);
  return out;
}

/**
 * Where `point` starts in the answer to `block`. Throws RangeError when the point is not in the
 * block, CodecError BAD_RESPONSE when the answer is too short for it.
 */
function offsetIn(block: ReadBlock, answer: ArrayLike<number>, point: PointConfig): number {
  const from = point.address - block.address;
  const width = pointWidth(point);
  if (point.table !== block.table || from < 0 || from + width > block.count) {
    throw new RangeError(`point ${point.name} (${point.table} ${point.address}, width ${width}) is not in block ${describeBlock(block)}`);
  }
  if (answer.length < from + width) {
    throw new CodecError(
      'BAD_RESPONSE',
      point.name,
      `Point ${point.name}: answer to ${describeBlock(block)} has ${answer.length} values, needs ${from + width}`,
    );
  }
  return from;
}

export function describeBlock(block: ReadBlock): string {
  return `${block.table} ${block.address}+${block.count}`;
}

// ---- planning -----------------------------------------------------------------------------------

function limitsOf(opts: PlanOptions): Limits {
  const limits = {
    maxGap: opts.maxGap ?? DEFAULT_MAX_GAP,
    maxRegisters: opts.maxRegisters ?? MAX_READ_REGISTERS,
    maxBits: opts.maxBits ?? MAX_READ_BITS,
  };
  const check = (name: string, value: number, low: number, high: number): void => {
    if (!Number.isInteger(value) || value < low || value > high) throw new RangeError(`${name} must be an integer in ${low}..${high}, got ${value}`);
  };
  check('maxGap', limits.maxGap, 0, 65535);
  check('maxRegisters', limits.maxRegisters, 1, MAX_READ_REGISTERS);
  check('maxBits', limits.maxBits, 1, MAX_READ_BITS);
  return limits;
}

function isBitTable(table: Table): boolean {
  return table === 'coil' || table === 'discrete';
}

function endOf(p: PointConfig): number {
  return p.address + pointWidth(p);
}

function byAddress(a: PointConfig, b: PointConfig): number {
  return a.address - b.address || endOf(a) - endOf(b);
}

function groupOf(table: Table, points: PointConfig[]): Group {
  const address = Math.min(...points.map((p) => p.address));
  const end = Math.max(...points.map(endOf));
  return { block: Object.freeze({ table, address, count: end - address }), points };
}

/**
 * Greedy merge in address order: a point joins the current request when the gap before it is at
 * most `maxGap` and the request stays within the limit. Because a point never straddles two
 * requests, extending as far as possible gives the fewest requests. A point wider than the limit
 * (a very long string) gets a request of its own.
 */
function planGroups(points: readonly PointConfig[], limits: Limits): Group[] {
  const groups: Group[] = [];
  for (const table of TABLE_ORDER) {
    const limit = isBitTable(table) ? limits.maxBits : limits.maxRegisters;
    const sorted = points.filter((p) => p.table === table).sort(byAddress);
    let current: { start: number; end: number; points: PointConfig[] } | undefined;
    for (const p of sorted) {
      const end = endOf(p);
      if (current !== undefined && p.address - current.end <= limits.maxGap && Math.max(current.end, end) - current.start <= limit) {
        current.end = Math.max(current.end, end);
        current.points.push(p);
        continue;
      }
      if (current !== undefined) groups.push(groupOf(table, current.points));
      current = { start: p.address, end, points: [p] };
    }
    if (current !== undefined) groups.push(groupOf(table, current.points));
  }
  return groups;
}

// ---- splitting ----------------------------------------------------------------------------------

/** Points in address order, grouped where their registers overlap (bits of one register, ...). */
function clusters(points: PointConfig[]): PointConfig[][] {
  const out: { end: number; points: PointConfig[] }[] = [];
  for (const p of [...points].sort(byAddress)) {
    const last = out[out.length - 1];
    if (last !== undefined && p.address < last.end) {
      last.points.push(p);
      last.end = Math.max(last.end, endOf(p));
    } else {
      out.push({ end: endOf(p), points: [p] });
    }
  }
  return out.map((c) => c.points);
}

/** Two groups split at the largest gap, one group per distinct register range, or none. */
function splitGroup(group: Group): Group[] {
  const { table, address, count } = group.block;
  const parts = clusters(group.points);
  if (parts.length >= 2) {
    const middle = address + count / 2;
    let best = -1;
    let bestGap = -1;
    let bestDistance = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const leftEnd = Math.max(...(parts[i] ?? []).map(endOf));
      const rightStart = (parts[i + 1] ?? [])[0]?.address ?? leftEnd;
      const gap = rightStart - leftEnd;
      const distance = Math.abs((leftEnd + rightStart) / 2 - middle);
      if (gap > bestGap || (gap === bestGap && distance < bestDistance)) {
        best = i;
        bestGap = gap;
        bestDistance = distance;
      }
    }
    return [groupOf(table, parts.slice(0, best + 1).flat()), groupOf(table, parts.slice(best + 1).flat())];
  }
  // One cluster: points overlapping each other. Read each distinct register range on its own.
  const ranges = new Map<string, PointConfig[]>();
  for (const p of group.points) {
    const key = `${p.address}+${pointWidth(p)}`;
    ranges.set(key, [...(ranges.get(key) ?? []), p]);
  }
  if (ranges.size <= 1) return [];
  return [...ranges.values()].map((points) => groupOf(table, points));
}
