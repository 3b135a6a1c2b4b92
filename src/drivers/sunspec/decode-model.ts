// Every published value of one model instance from its registers: scale factors first, then the
// points that name them. Pads are not published.
import { SunSpecDataError } from './errors.js';
import { decodeValue, type SunSpecValue } from './decode.js';
import type { ModelLayout } from './layout.js';
import { scaleFactorExponent } from './scale-factor.js';

/**
 * The values of the model at `layout` by published name, in address order. `registers[i]` is the
 * register at `layout.start + i`: the whole model, its ID and L registers included, which must
 * still say what discovery found. A register left undefined (a point the device refuses to read)
 * leaves its point out, and the points its scale factor scales. Throws SunSpecDataError
 * (HEADER_MISMATCH, SHORT_REGISTERS, SCALE_FACTOR_OUT_OF_RANGE) or CodecError (a register that is
 * not a 16-bit value).
 */
export function decodeModel(layout: ModelLayout, registers: ArrayLike<number | undefined>): Record<string, SunSpecValue> {
  const id = layout.def.id;
  const needed = 2 + layout.length;
  const where = `model ${id} at ${layout.start}`;
  if (registers.length < needed) {
    throw new SunSpecDataError('SHORT_REGISTERS', id, `${where}: needs ${needed} registers, got ${registers.length}`);
  }
  if (registers[0] !== id || registers[1] !== layout.length) {
    throw new SunSpecDataError(
      'HEADER_MISMATCH',
      id,
      `${where}: ID and L read ${String(registers[0])} and ${String(registers[1])}, expected ${id} and ${layout.length}`,
    );
  }
  /** The point's registers, or undefined when any of them was not read. */
  const regsOf = (address: number, size: number): number[] | undefined => {
    const from = address - layout.start;
    const out: number[] = [];
    for (let i = 0; i < size; i++) {
      const w = registers[from + i];
      if (w === undefined) return undefined;
      out.push(w);
    }
    return out;
  };

  const scaleFactors = new Map<string, SunSpecValue>();
  for (const p of layout.points) {
    const regs = p.def.type === 'sunssf' ? regsOf(p.address, p.def.size) : undefined;
    if (regs !== undefined) scaleFactors.set(p.name, decodeValue(p.def, regs));
  }
  const values: Record<string, SunSpecValue> = {};
  for (const p of layout.points) {
    if (p.def.type === 'pad') continue;
    if (p.def.type === 'sunssf') {
      if (scaleFactors.has(p.name)) values[p.name] = scaleFactors.get(p.name) ?? null;
      continue;
    }
    const regs = regsOf(p.address, p.def.size);
    if (regs === undefined) continue;
    if (typeof p.sf === 'string' && !scaleFactors.has(p.sf)) continue;
    const exponent = typeof p.sf === 'string' ? scaleFactorExponent(scaleFactors.get(p.sf), { model: id, sfPoint: p.sf }) : undefined;
    values[p.name] = decodeValue(p.def, regs, exponent);
  }
  return values;
}
