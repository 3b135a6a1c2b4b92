// One unit of `gridkeeper scan`: does it answer, is it SunSpec, and what is chained behind its
// marker (per device: model 1's manufacturer, model, version and serial number, and every model's
// place). Reads only. A silent unit costs one timeout: the first read of discovery times out and
// nothing else is asked of it.
import type { UnitHandle } from '../drivers/modbus/bus.js';
import { BadResponseError, ModbusExceptionError, TimeoutError, TransportError } from '../drivers/errors.js';
import { GridkeeperError } from '../errors.js';
import { decodeModel } from '../drivers/sunspec/decode-model.js';
import type { SunSpecValue } from '../drivers/sunspec/decode.js';
import { COMMON_MODEL_ID, discoverChain, type DiscoveredDevice } from '../drivers/sunspec/discovery.js';
import { SunSpecDataError } from '../drivers/sunspec/errors.js';
import { layoutModel } from '../drivers/sunspec/layout.js';
import { modelDefinition } from '../drivers/sunspec/models.js';

/** Gateway exceptions: a TCP-to-RTU gateway's way of saying that nobody answered at that unit id. */
const NOBODY_THERE: ReadonlySet<number> = new Set([10, 11]);
/** Registers one read may carry. */
const MAX_READ = 125;

export interface FoundModel {
  id: number;
  /** The specification's name of the model (`common`, `inverter_three_phase`), or null for a model gridkeeper does not know. */
  name: string | null;
  /** Address of the model's ID register. */
  address: number;
  /** L: registers after the ID and L registers. */
  length: number;
}

export interface FoundDevice {
  /** 1-based place in the chain (`sunspec.index`). */
  index: number;
  manufacturer: string | null;
  model: string | null;
  version: string | null;
  serial: string | null;
  models: FoundModel[];
  /** Why model 1 could not be read, when it could not (the models are still listed). */
  problem?: string;
}

export type UnitFinding =
  | { unitId: number; status: 'sunspec'; baseAddress: number; devices: FoundDevice[] }
  /** Answers, but not SunSpec: no marker, a broken chain, an exception or garbage. */
  | { unitId: number; status: 'not-sunspec' | 'error'; detail: string }
  | { unitId: number; status: 'silent' };

/**
 * What `unit` is. Resolves for every answer and for silence; rejects only with the TransportError
 * of a bus that is down (nothing further can be learned on it).
 */
export async function probeUnit(unit: UnitHandle): Promise<UnitFinding> {
  const unitId = unit.unitId;
  // Whether the unit has said anything at all: a timeout after an answer is a fault, not silence.
  let answered = false;
  const reader = {
    read: async (table: 'holding', address: number, count: number): Promise<number[]> => {
      try {
        const regs = await unit.read(table, address, count);
        answered = true;
        return regs;
      } catch (err) {
        if (err instanceof ModbusExceptionError && !NOBODY_THERE.has(err.exceptionCode)) answered = true;
        throw err;
      }
    },
  };
  try {
    const discovery = await discoverChain(reader, { baseAddress: 'auto' });
    const devices: FoundDevice[] = [];
    for (const device of discovery.devices) devices.push(await describeDevice(unit, device));
    return { unitId, status: 'sunspec', baseAddress: discovery.baseAddress, devices };
  } catch (err) {
    if (err instanceof TransportError) throw err;
    if (err instanceof TimeoutError) return answered ? { unitId, status: 'error', detail: `stopped answering: ${err.message}` } : { unitId, status: 'silent' };
    if (err instanceof ModbusExceptionError && NOBODY_THERE.has(err.exceptionCode)) return { unitId, status: 'silent' };
    if (err instanceof SunSpecDataError && err.code === 'NOT_SUNSPEC') return { unitId, status: 'not-sunspec', detail: err.message };
    if (err instanceof SunSpecDataError || err instanceof ModbusExceptionError || err instanceof BadResponseError) {
      return { unitId, status: 'error', detail: err.message };
    }
    throw err;
  }
}

async function describeDevice(unit: UnitHandle, device: DiscoveredDevice): Promise<FoundDevice> {
  const models = device.models.map((m) => ({ id: m.id, name: modelDefinition(m.id)?.name ?? null, address: m.start, length: m.length }));
  const found: FoundDevice = { index: device.index, manufacturer: null, model: null, version: null, serial: null, models };
  const common = device.models.find((m) => m.id === COMMON_MODEL_ID);
  const def = modelDefinition(COMMON_MODEL_ID);
  if (common === undefined || def === undefined) return { ...found, problem: 'no model 1 (common) in this device' };
  try {
    const layout = layoutModel(def, common);
    const values = decodeModel(layout, await readRange(unit, common.start, 2 + common.length));
    return { ...found, manufacturer: text(values.m1_Mn), model: text(values.m1_Md), version: text(values.m1_Vr), serial: text(values.m1_SN) };
  } catch (err) {
    if (err instanceof TransportError || !(err instanceof GridkeeperError)) throw err;
    return { ...found, problem: `model 1 at ${common.start}: ${err.message}` };
  }
}

/** `count` holding registers from `address`, in reads of at most 125. */
async function readRange(unit: UnitHandle, address: number, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let at = address; at < address + count; at += MAX_READ) {
    out.push(...(await unit.read('holding', at, Math.min(MAX_READ, address + count - at))));
  }
  return out;
}

function text(value: SunSpecValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  const s = String(value).trim();
  return s === '' ? null : s;
}
