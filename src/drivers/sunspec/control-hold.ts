// A SunSpec control as a held setpoint (CONTRACT.md section 7): its revert programmed with every
// write, and its release. The device's own timer (123 WMaxLimPct_RvrtTms, 124 InOutWRte_RvrtTms:
// uint16 s; 704 WMaxLimPctRvrtTms: uint32 s) restarts with every write of the control; when nobody
// writes it for that long the device drops the control by itself (123/124: the switch off; 704: the
// setpoint to WMaxLimPctRvrt, which is programmed to 100 %, no limit). Every write asks the gate's
// guard right before it goes on the wire, FC16 only (SunSpec requires it, FC6 it does not).
import { encodePoint } from '../device/codec.js';
import { CodecError, ReadBackMismatchError } from '../errors.js';
import type { UnitHandle } from '../modbus/bus.js';
import { READ_FUNCTION } from '../modbus/pdu.js';
import { codecPoint } from './codec-point.js';
import { CONTROL_OFF_VALUE, isEnabled, type Recipe } from './controls.js';
import type { SunSpecValue } from './decode.js';
import type { PointInstance } from './layout.js';

/** A bitfield16 register that says "not implemented". */
const NOT_IMPLEMENTED_16 = 0xffff;

export interface HoldWriteOptions {
  guard: () => boolean;
  /** The exponent of the setpoint's scale factor (for 704's revert value). */
  sfExponent: number;
  device: string;
}

/**
 * Writes what a held setpoint needs besides the control itself, where the registers as last read
 * (`current`, decoded m-values; a point not read yet counts as different) differ: the timer to
 * `seconds`, and on 704 the revert value to CONTROL_OFF_VALUE. Returns false when the device does
 * not implement a revert timer for the control (it then cannot fall back by itself).
 */
export async function programRevert(
  unit: UnitHandle,
  recipe: Recipe,
  seconds: number,
  current: Readonly<Record<string, SunSpecValue>>,
  opts: HoldWriteOptions,
): Promise<boolean> {
  const timer = recipe.revertTimer;
  if (timer === undefined || current[timer.name] === null) return false;
  if (current[timer.name] !== seconds) await writePoint(unit, recipe, timer, seconds, 0, opts);
  const revert = recipe.revertValue;
  if (revert !== undefined && current[revert.name] !== null && current[revert.name] !== CONTROL_OFF_VALUE) {
    await writePoint(unit, recipe, revert, CONTROL_OFF_VALUE, opts.sfExponent, opts);
  }
  return true;
}

/**
 * Puts the control out of force: its switch off (the bit cleared, the other bits kept), then with
 * `verifyWrites` the switch read back. Returns the control's reading then, CONTROL_OFF_VALUE, or
 * null without verifyWrites. Throws GateClosedError, ReadBackMismatchError or a bus error.
 */
export async function switchOff(unit: UnitHandle, recipe: Recipe, opts: { guard: () => boolean; verifyWrites: boolean; device: string }): Promise<number | null> {
  let off = 0;
  if (recipe.enableBit !== undefined) {
    const [now = 0] = await unit.read('holding', recipe.enable.address, 1, { priority: 'write' });
    off = now === NOT_IMPLEMENTED_16 ? 0 : now & ~(1 << recipe.enableBit) & 0xffff;
  }
  await unit.writeRegisters(recipe.enable.address, [off], { guard: opts.guard, point: recipe.control, multiple: true });
  if (!opts.verifyWrites) return null;
  const [back] = await unit.read('holding', recipe.enable.address, 1, { priority: 'write' });
  if (isEnabled(recipe, back ?? null) !== false) {
    const context = { bus: unit.busId, device: opts.device, unit: unit.unitId, fc: READ_FUNCTION.holding, table: 'holding', address: recipe.enable.address, count: 1 } as const;
    throw new ReadBackMismatchError(`${recipe.control} (${recipe.enable.name})`, off, back ?? Number.NaN, context);
  }
  return CONTROL_OFF_VALUE;
}

async function writePoint(unit: UnitHandle, recipe: Recipe, p: PointInstance, value: number, sfExponent: number, opts: HoldWriteOptions): Promise<void> {
  const point = codecPoint(p.def);
  if (point === undefined) throw new CodecError('POINT_INVALID', recipe.control, `${p.name} of device ${opts.device} has no codec type`);
  // Throws CodecError before anything is sent when the register cannot hold the value.
  const regs = encodePoint(point, value, sfExponent);
  await unit.writeRegisters(p.address, regs, { guard: opts.guard, point: recipe.control, multiple: true });
}
