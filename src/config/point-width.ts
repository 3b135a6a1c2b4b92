// How much of a Modbus table a point occupies: the one table of widths, read by the config checks
// (overlaps, the end of the address space), the drivers (read sizes, the codec) and the simulator.
import type { PointType, Table } from './types.js';

/** Registers a value of each fixed-size type occupies in a holding or input table. */
export const TYPE_REGISTERS: Readonly<Record<Exclude<PointType, 'string'>, number>> = {
  int16: 1, uint16: 1, bool: 1,
  int32: 2, uint32: 2, float32: 2,
  int64: 4, uint64: 4, float64: 4,
};

/**
 * Registers a point occupies in a holding or input table (a string: its `length`), or 1 (one bit)
 * in a coil or discrete table. A string without a length counts as 1 here: the checks report the
 * missing length, and the codec refuses such a point.
 */
export function pointWidth(p: { table?: Table; type: PointType; length?: number }): number {
  const table = p.table ?? 'holding';
  if (table === 'coil' || table === 'discrete') return 1;
  return p.type === 'string' ? (p.length ?? 1) : TYPE_REGISTERS[p.type];
}
