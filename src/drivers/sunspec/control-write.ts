// Writing a SunSpec control by its model's recipe: the setpoint first (scaled by its scale factor),
// then the switch that puts it in force (1, or its bit of a bitfield set, the other bits kept), and
// with verifyWrites both read back. Each write asks the actuation gate's guard right before it goes
// on the wire. SunSpec devices are written with FC16 only: the SunSpec Modbus specification requires
// it of every device, FC6 it does not.
//
// Order matters where the device acts on the switch at once: the setpoint must already be there.
// Writing a control twice leaves the device as writing it once, so a write cut off by a closing
// gate between the two registers is completed by whoever applies the command next.
import { encodePoint, decodePoint } from '../device/codec.js';
import { readBackMatches } from '../device/read-back.js';
import { CodecError, ReadBackMismatchError, type RequestContext } from '../errors.js';
import type { UnitHandle } from '../modbus/bus.js';
import { READ_FUNCTION } from '../modbus/pdu.js';
import { codecPoint } from './codec-point.js';
import { isEnabled, type Recipe } from './controls.js';

/** A register that says "not implemented" for a bitfield16. */
const NOT_IMPLEMENTED_16 = 0xffff;

export interface ControlWriteOptions {
  guard: () => boolean;
  /** The exponent of the setpoint's scale factor (0 for none). */
  sfExponent: number;
  verifyWrites: boolean;
  device: string;
}

/**
 * Writes `value` (%) by `recipe`. Returns the setpoint read back, or null without verifyWrites.
 * Throws CodecError (the value does not fit the register, before anything is sent),
 * GateClosedError, ReadBackMismatchError or a bus error.
 */
export async function writeControl(unit: UnitHandle, recipe: Recipe, value: number, opts: ControlWriteOptions): Promise<number | null> {
  const point = codecPoint(recipe.value.def);
  if (point === undefined) throw new CodecError('POINT_INVALID', recipe.control, `${recipe.value.name} has no codec type`);
  const regs = encodePoint(point, value, opts.sfExponent);
  const enableRegs = [await switchOn(unit, recipe)];
  const write = { guard: opts.guard, point: recipe.control, multiple: true } as const;
  await unit.writeRegisters(recipe.value.address, regs, write);
  await unit.writeRegisters(recipe.enable.address, enableRegs, write);
  if (!opts.verifyWrites) return null;

  // Both registers are in the same model: one read covers them (a few registers apart).
  const from = Math.min(recipe.value.address, recipe.enable.address);
  const to = Math.max(recipe.value.address + recipe.value.def.size, recipe.enable.address + 1);
  const back = await unit.read('holding', from, to - from, { priority: 'write' });
  const at = (p: { address: number; def: { size: number } }): number[] => back.slice(p.address - from, p.address - from + p.def.size);
  const actual = decodePoint(point, at(recipe.value), opts.sfExponent);
  const intended = decodePoint(point, regs, opts.sfExponent);
  const context = contextOf(unit, opts.device, from, to - from);
  if (typeof actual !== 'number' || !readBackMatches(point, value, intended, actual, opts.sfExponent)) {
    throw new ReadBackMismatchError(recipe.control, value, actual, context);
  }
  const enable = at(recipe.enable)[0];
  if (isEnabled(recipe, enable ?? null) !== true) {
    throw new ReadBackMismatchError(`${recipe.control} (${recipe.enable.name})`, enableRegs[0] ?? 1, enable ?? Number.NaN, context);
  }
  return actual;
}

/** The switch's register with the control on: 1, or the current bitfield with its bit set. */
async function switchOn(unit: UnitHandle, recipe: Recipe): Promise<number> {
  if (recipe.enableBit === undefined) return 1;
  const [current = 0] = await unit.read('holding', recipe.enable.address, 1, { priority: 'write' });
  const kept = current === NOT_IMPLEMENTED_16 ? 0 : current;
  return (kept | (1 << recipe.enableBit)) & 0xffff;
}

function contextOf(unit: UnitHandle, device: string, address: number, count: number): RequestContext {
  return { bus: unit.busId, device, unit: unit.unitId, fc: READ_FUNCTION.holding, table: 'holding', address, count };
}
