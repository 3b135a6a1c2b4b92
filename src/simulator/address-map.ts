// Which addresses of which table the points of one device cover. It decides what a read may touch
// (exception 2 otherwise, like real hardware) and which points a write lands on.
import type { PointConfig, Table } from '../config/types.js';
import { pointWidth } from '../config/point-width.js';

export class AddressMap {
  private readonly byTable: Record<Table, Map<number, PointConfig[]>> = {
    holding: new Map(),
    input: new Map(),
    coil: new Map(),
    discrete: new Map(),
  };
  private readonly spans: Partial<Record<Table, { min: number; max: number }>> = {};

  constructor(points: readonly PointConfig[]) {
    for (const p of points) {
      const width = pointWidth(p);
      const map = this.byTable[p.table];
      for (let a = p.address; a < p.address + width; a++) {
        const list = map.get(a);
        if (list === undefined) map.set(a, [p]);
        else list.push(p);
      }
      const last = p.address + width - 1;
      const span = this.spans[p.table];
      this.spans[p.table] =
        span === undefined ? { min: p.address, max: last } : { min: Math.min(span.min, p.address), max: Math.max(span.max, last) };
    }
  }

  /** Points covering `address` (several for bit points sharing a register). */
  pointsAt(table: Table, address: number): readonly PointConfig[] {
    return this.byTable[table].get(address) ?? [];
  }

  /** Distinct points overlapping [address, address+count). */
  pointsIn(table: Table, address: number, count: number): PointConfig[] {
    const found = new Set<PointConfig>();
    for (let a = address; a < address + count; a++) for (const p of this.pointsAt(table, a)) found.add(p);
    return [...found];
  }

  /** Lowest and highest address any point of the table covers; undefined for a table without points. */
  span(table: Table): { min: number; max: number } | undefined {
    return this.spans[table];
  }

  /** Every address of [address, address+count) is covered by some point. */
  fullyCovered(table: Table, address: number, count: number): boolean {
    const map = this.byTable[table];
    for (let a = address; a < address + count; a++) if (!map.has(a)) return false;
    return true;
  }

  /** [address, address+count) lies inside the span of the table's points (gaps included). */
  insideSpan(table: Table, address: number, count: number): boolean {
    const span = this.spans[table];
    return span !== undefined && address >= span.min && address + count - 1 <= span.max;
  }
}
