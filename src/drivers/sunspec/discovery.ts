// SunSpec discovery: find the "SunS" marker, then walk the model chain (ID, L) from it to the end
// marker 0xFFFF. Each model 1 (Common) starts a new device of a daisy chain. Models gridkeeper does
// not know are skipped by their length; the ones it knows are checked against their definitions
// here, so that a device with a broken chain is refused at discovery, not on its first decode.
//
// Only small reads go out (2 registers per header, at most 125 per request by construction). A
// device without an end marker is accepted when the walk meets an illegal-address answer (Modbus
// exception 2) where the next header would be. Everything else a device says that does not fit is
// a SunSpecDataError; Modbus errors other than that exception 2 propagate as they are.
import { ModbusExceptionError } from '../errors.js';
import { SunSpecDataError } from './errors.js';
import { layoutModel } from './layout.js';
import { modelDefinition } from './models.js';
import { countedByPoint } from './types.js';

export interface ModelLocation {
  id: number;
  /** Address of the model's ID register. */
  start: number;
  /** L: registers after the ID and L registers. */
  length: number;
}

export interface DiscoveredDevice {
  /** 1-based place in the chain. */
  index: number;
  models: ModelLocation[];
}

export interface Discovery {
  /** Address of the "SunS" marker. */
  baseAddress: number;
  devices: DiscoveredDevice[];
}

/** What discovery needs of a device: a UnitHandle fits. */
export type HoldingReader = { read(table: 'holding', address: number, count: number): Promise<number[]> };

/** "SunS" in two registers. */
export const SUNS_MARKER: readonly [number, number] = [0x5375, 0x6e53];
/** Where `baseAddress: auto` looks for the marker, in this order (the SunSpec specification's three). */
export const AUTO_BASE_ADDRESSES: readonly number[] = [40000, 0, 50000];
/** The ID of the end marker. */
export const END_MODEL_ID = 0xffff;
/** Model 1 (Common) starts each device of a chain. */
export const COMMON_MODEL_ID = 1;
/**
 * More models than this in one chain means the chain does not end (a device that repeats its
 * registers, say). A daisy chain of 50 inverters with 10 models each stays below it.
 */
export const MAX_CHAIN_MODELS = 512;

const MAX_ADDRESS = 0xffff;
const ILLEGAL_DATA_ADDRESS = 2;
const ILLEGAL_FUNCTION = 1;

/**
 * Finds the marker (at `baseAddress`, or at 40000, 0, 50000 for auto) and walks the chain. Throws
 * SunSpecDataError (NOT_SUNSPEC, ADDRESS_OVERFLOW, LENGTH_MISMATCH, CHAIN_LOOP) or the driver
 * error of a read that failed otherwise (timeout, connection, another exception).
 */
export async function discoverChain(unit: HoldingReader, opts: { baseAddress: number | 'auto' }): Promise<Discovery> {
  const baseAddress = await findMarker(unit, opts.baseAddress === 'auto' ? AUTO_BASE_ADDRESSES : [opts.baseAddress]);
  return { baseAddress, devices: await walkChain(unit, baseAddress) };
}

/** The first candidate address holding the marker. */
async function findMarker(unit: HoldingReader, candidates: readonly number[]): Promise<number> {
  const seen: string[] = [];
  for (const address of candidates) {
    let regs: number[];
    try {
      regs = await unit.read('holding', address, 2);
    } catch (err) {
      // No registers there (2), or no holding registers at all (1): not SunSpec at this address.
      if (err instanceof ModbusExceptionError && (err.exceptionCode === ILLEGAL_DATA_ADDRESS || err.exceptionCode === ILLEGAL_FUNCTION)) {
        seen.push(`${address}: exception ${err.exceptionCode} (${err.exceptionName})`);
        continue;
      }
      throw err;
    }
    if (regs[0] === SUNS_MARKER[0] && regs[1] === SUNS_MARKER[1]) return address;
    seen.push(`${address}: ${regs.map(hex).join(' ')}`);
  }
  throw new SunSpecDataError(
    'NOT_SUNSPEC',
    null,
    `not a SunSpec device: the device answers, but no "SunS" marker at ${candidates.join(', ')} (${seen.join('; ')})`,
  );
}

async function walkChain(unit: HoldingReader, base: number): Promise<DiscoveredDevice[]> {
  const devices: DiscoveredDevice[] = [];
  let current: DiscoveredDevice | undefined;
  let address = base + SUNS_MARKER.length;
  for (let count = 0; address <= MAX_ADDRESS; count++) {
    const header = await readHeader(unit, address);
    if (header === null) break; // no registers where the next header would be: no end marker
    const [id, length] = header;
    if (id === END_MODEL_ID) break;
    if (id === SUNS_MARKER[0] && length === SUNS_MARKER[1]) {
      throw new SunSpecDataError(
        'CHAIN_LOOP',
        null,
        `the model chain from ${base} meets the "SunS" marker again at ${address}: the device seems to repeat its registers`,
      );
    }
    // Model id 0 does not exist; a device that ends its chain without a marker may read as zeros there.
    if (id === 0) break;
    if (count >= MAX_CHAIN_MODELS) {
      throw new SunSpecDataError('CHAIN_LOOP', id, `the model chain from ${base} has more than ${MAX_CHAIN_MODELS} models: it does not end`);
    }
    const model: ModelLocation = { id, start: address, length };
    checkModel(model);
    if (current === undefined || id === COMMON_MODEL_ID) {
      current = { index: devices.length + 1, models: [] };
      devices.push(current);
    }
    current.models.push(model);
    address += 2 + length;
  }
  return devices;
}

/** ID and L at `address`, or null when the device has no register there (exception 2). */
async function readHeader(unit: HoldingReader, address: number): Promise<[number, number] | null> {
  // The very last register can hold an end marker, but no model.
  const count = address === MAX_ADDRESS ? 1 : 2;
  let regs: number[];
  try {
    regs = await unit.read('holding', address, count);
  } catch (err) {
    if (err instanceof ModbusExceptionError && err.exceptionCode === ILLEGAL_DATA_ADDRESS) return null;
    throw err;
  }
  const id = regs[0] ?? END_MODEL_ID;
  if (count === 1 && id !== END_MODEL_ID) {
    throw new SunSpecDataError('ADDRESS_OVERFLOW', id, `model ${id} at ${address}: its length register would be past register ${MAX_ADDRESS}`);
  }
  return [id, regs[1] ?? 0];
}

/** The model must end by register 65535, and a model gridkeeper knows must be as long as its definition allows. */
function checkModel(m: ModelLocation): void {
  if (m.start + 2 + m.length - 1 > MAX_ADDRESS) {
    throw new SunSpecDataError('ADDRESS_OVERFLOW', m.id, `model ${m.id} at ${m.start}: length ${m.length} runs past register ${MAX_ADDRESS}`);
  }
  const def = modelDefinition(m.id);
  // A group counted by a point needs the model's registers: the driver checks those when it reads them.
  if (def !== undefined && !countedByPoint(def)) layoutModel(def, m);
}

function hex(word: number): string {
  return `0x${word.toString(16).padStart(4, '0')}`;
}
