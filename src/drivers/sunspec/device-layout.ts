// One SunSpec device of a discovered chain, laid out: where each point of each model gridkeeper
// knows is, which models were skipped, and whether the models the config requires are there.
import { SunSpecDataError } from './errors.js';
import type { DiscoveredDevice, Discovery, HoldingReader, ModelLocation } from './discovery.js';
import { layoutModel, type ModelLayout } from './layout.js';
import { modelDefinition } from './models.js';
import { countedByPoint } from './types.js';

export interface DeviceLayout {
  /** Address of the "SunS" marker of the chain. */
  readonly baseAddress: number;
  /** The device as discovery found it (every model, known or not). */
  readonly device: DiscoveredDevice;
  /** The models gridkeeper reads, laid out, in address order. */
  readonly models: readonly ModelLayout[];
  /** Models not read: unknown to gridkeeper, or a second instance of a model id already read (its names would clash). */
  readonly skipped: readonly ModelLocation[];
}

/** Most registers one read carries (Modbus: 125 for FC3). */
const MAX_READ_REGISTERS = 125;

/**
 * The device at `index` (1-based) of `discovery`, laid out. `required` are model ids the config
 * asks for. Reads the registers of a model only where its layout depends on them (a group counted
 * by a point). Throws SunSpecDataError DEVICE_NOT_IN_CHAIN, MODEL_MISSING, LENGTH_MISMATCH,
 * COUNT_INVALID, or the driver error of such a read.
 */
export async function layOutDevice(
  unit: HoldingReader,
  discovery: Discovery,
  opts: { index: number; required: readonly number[] },
): Promise<DeviceLayout> {
  const device = discovery.devices[opts.index - 1];
  if (device === undefined) {
    const n = discovery.devices.length;
    throw new SunSpecDataError(
      'DEVICE_NOT_IN_CHAIN',
      null,
      `the SunSpec chain at ${discovery.baseAddress} has ${n} device${n === 1 ? '' : 's'}, so there is no device ${opts.index} (sunspec.index)`,
    );
  }
  const present = new Set(device.models.map((m) => m.id));
  const missing = opts.required.filter((id) => !present.has(id));
  const [firstMissing] = missing;
  if (firstMissing !== undefined) {
    throw new SunSpecDataError(
      'MODEL_MISSING',
      firstMissing,
      `SunSpec model${missing.length === 1 ? '' : 's'} ${missing.join(', ')} required by sunspec.models ` +
        `not on the device (it has ${device.models.map((m) => m.id).join(', ') || 'no models'})`,
    );
  }
  const models: ModelLayout[] = [];
  const skipped: ModelLocation[] = [];
  const read = new Set<number>();
  for (const loc of device.models) {
    const def = modelDefinition(loc.id);
    if (def === undefined || read.has(loc.id)) {
      skipped.push(loc);
      continue;
    }
    read.add(loc.id);
    const registers = countedByPoint(def) ? await readModel(unit, loc) : undefined;
    models.push(layoutModel(def, { start: loc.start, length: loc.length, ...(registers === undefined ? {} : { registers }) }));
  }
  return { baseAddress: discovery.baseAddress, device, models, skipped };
}

/** Whether two discoveries put the device's models at the same places with the same lengths. */
export function sameModels(a: DeviceLayout, b: DeviceLayout): boolean {
  const key = (l: DeviceLayout): string => `${l.baseAddress}:${l.device.models.map((m) => `${m.id}@${m.start}+${m.length}`).join(',')}`;
  return key(a) === key(b);
}

/** All registers of a model, ID and L included, in reads of at most 125. */
async function readModel(unit: HoldingReader, loc: ModelLocation): Promise<number[]> {
  const out: number[] = [];
  const end = loc.start + 2 + loc.length;
  for (let address = loc.start; address < end; address += MAX_READ_REGISTERS) {
    out.push(...(await unit.read('holding', address, Math.min(MAX_READ_REGISTERS, end - address))));
  }
  return out;
}
