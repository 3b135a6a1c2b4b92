// The memory of one simulated device: four sparse tables of 65536 entries each. Registers are
// uint16, bits are 0/1; an address never written reads as 0.
import type { Table } from '../config/types.js';

export class RegisterBank {
  private readonly tables: Record<Table, Map<number, number>> = {
    holding: new Map(),
    input: new Map(),
    coil: new Map(),
    discrete: new Map(),
  };

  get(table: Table, address: number): number {
    return this.tables[table].get(address) ?? 0;
  }

  read(table: Table, address: number, count: number): number[] {
    const map = this.tables[table];
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = map.get(address + i) ?? 0;
    return out;
  }

  /** Stores `values` from `address` on: registers masked to 16 bits, bits to 0/1. */
  write(table: Table, address: number, values: readonly number[]): void {
    const map = this.tables[table];
    const isBit = table === 'coil' || table === 'discrete';
    values.forEach((v, i) => map.set(address + i, isBit ? (v ? 1 : 0) : v & 0xffff));
  }
}
