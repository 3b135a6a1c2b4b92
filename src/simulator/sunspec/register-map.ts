// The holding registers of a simulated SunSpec device, laid out from the project's model definitions
// (sunspec/models/) with the layout code the agent uses: the "SunS" marker at the base address, then
// per model its ID and L registers and its points, then the end marker (ID 0xFFFF, L 0). A daisy
// chain is several devices, each starting with model 1, between one marker and one end marker.
//
// Everything served is a point of the simulated device (the marker, the headers and the points left
// out included), so reads, writes and the write checks of SimulatedDevice apply to all of it:
// - implemented points get an engineering value; a writable one accepts writes within its range;
// - points a device leaves out hold the "not implemented" registers and are read-only;
// - the marker and the ID/L headers are read-only points named `hdr_...`, which no published name
//   (`m<model>_...`) can be.
import type { PointConfig, PointValue } from '../../config/types.js';
import { codecPoint } from '../../drivers/sunspec/codec-point.js';
import { layoutModel, type ModelLayout, type PointInstance } from '../../drivers/sunspec/layout.js';
import { modelDefinition } from '../../drivers/sunspec/models.js';
import { SunSpecImageError } from '../errors.js';
import { notImplementedRegisters } from './not-implemented.js';

/** "SunS" as two registers (0x5375 0x6E53). */
export const SUNSPEC_MARKER = 'SunS';
/** The ID register of the end marker. */
export const END_MODEL_ID = 0xffff;

export interface ModelSpec {
  id: number;
  /** L as the device reports it; default the definition's length (needed for a model with a `fill` group). */
  length?: number;
}

/** One device of the chain and what it implements. */
export interface ChainDevice {
  /**
   * Put before the names of this device's points: '' for the device the config describes, e.g.
   * `d1_` for a device before it in the chain (published names would collide otherwise).
   */
  prefix: string;
  models: readonly ModelSpec[];
  /** Engineering values of the points the device implements, by published name (without prefix); every other point is left out. */
  values: ReadonlyMap<string, PointValue>;
  /** What a writable point accepts, by published name; enums and bitfields get theirs from their symbols. */
  ranges?: ReadonlyMap<string, readonly [number, number]>;
}

export interface ModelLocation {
  id: number;
  /** Address of the model's ID register. */
  start: number;
  /** L: registers after the ID and L registers. */
  length: number;
}

export interface SunSpecImage {
  /** Every register from the marker to the end marker belongs to exactly one of these, in address order. */
  points: PointConfig[];
  /** Initial engineering values: implemented points, marker and headers. */
  values: Map<string, PointValue>;
  /** Raw registers of the points left out (they have no value, so they are never re-encoded). */
  registers: { address: number; values: number[] }[];
  /** Per chained device, its models in the order served. */
  devices: { prefix: string; models: ModelLocation[]; layouts: ModelLayout[] }[];
  /** Address of the end marker's ID register. */
  endAddress: number;
}

const MAX_ADDRESS = 0xffff;

/** The register image of `chain` starting at `baseAddress`. Throws SunSpecImageError. */
export function sunspecImage(chain: readonly ChainDevice[], baseAddress: number): SunSpecImage {
  const image: SunSpecImage = { points: [], values: new Map(), registers: [], devices: [], endAddress: 0 };
  const header = (name: string, address: number, value: number): void => {
    image.points.push(uint16(name, address));
    image.values.set(name, value);
  };
  image.points.push({ ...readOnly(`hdr_${SUNSPEC_MARKER}`, baseAddress), type: 'string', length: 2 });
  image.values.set(`hdr_${SUNSPEC_MARKER}`, SUNSPEC_MARKER);

  let address = baseAddress + 2;
  for (const device of chain) {
    const served: SunSpecImage['devices'][number] = { prefix: device.prefix, models: [], layouts: [] };
    const used = new Set<string>();
    for (const spec of device.models) {
      const def = modelDefinition(spec.id);
      if (def === undefined) throw new SunSpecImageError(`model ${spec.id}: no definition in sunspec/models/`);
      const length = spec.length ?? def.length;
      const layout = layoutModel(def, { start: address, length });
      header(`${device.prefix}hdr_m${spec.id}_ID`, address, spec.id);
      header(`${device.prefix}hdr_m${spec.id}_L`, address + 1, length);
      for (const inst of layout.points) addPoint(image, device, inst, used);
      served.models.push({ id: spec.id, start: address, length });
      served.layouts.push(layout);
      address += 2 + length;
    }
    const unknown = [...device.values.keys()].filter((name) => !used.has(name));
    if (unknown.length > 0) throw new SunSpecImageError(`values for points the models do not have: ${unknown.join(', ')}`);
    image.devices.push(served);
  }
  if (address + 1 > MAX_ADDRESS) throw new SunSpecImageError(`the chain at ${baseAddress} runs past register ${MAX_ADDRESS}`);
  header('hdr_end_ID', address, END_MODEL_ID);
  header('hdr_end_L', address + 1, 0);
  image.endAddress = address;
  return image;
}

function addPoint(image: SunSpecImage, device: ChainDevice, inst: PointInstance, used: Set<string>): void {
  const name = device.prefix + inst.name;
  used.add(inst.name);
  const value = device.values.get(inst.name);
  const def = inst.def;
  // ipv6addr has no codec type: served as a string of its 8 registers (only ever "not implemented" here).
  const codec = codecPoint(def) ?? { ...readOnly(name, 0), type: 'string', length: def.size };
  const p: PointConfig = { ...codec, name, address: inst.address, access: 'read' };
  image.points.push(p);
  if (value === undefined || def.type === 'pad') {
    image.registers.push({ address: inst.address, values: notImplementedRegisters(def.type, def.size) });
    return;
  }
  if (typeof inst.sf === 'string') {
    if (!device.values.has(inst.sf)) throw new SunSpecImageError(`${inst.name} is implemented but its scale factor ${inst.sf} is not`);
    p.scaleFactor = device.prefix + inst.sf;
  } else if (typeof inst.sf === 'number') {
    p.scale = 10 ** inst.sf;
  }
  if (def.units !== undefined) p.unit = def.units;
  if (def.access === 'RW') {
    p.access = 'readwrite';
    const range = device.ranges?.get(inst.name) ?? symbolRange(def.type, def.symbols);
    if (range !== undefined) [p.min, p.max] = range;
  }
  image.values.set(name, value);
}

/** Enums accept their symbols' values, bitfields any combination of their bits. */
function symbolRange(type: string, symbols: Readonly<Record<string, number>> | undefined): readonly [number, number] | undefined {
  if (symbols === undefined) return undefined;
  const values = Object.values(symbols);
  if (values.length === 0) return undefined;
  if (type.startsWith('enum')) return [Math.min(...values), Math.max(...values)];
  if (type.startsWith('bitfield')) return [0, values.reduce((mask, bit) => mask + 2 ** bit, 0)];
  return undefined;
}

function readOnly(name: string, address: number): Omit<PointConfig, 'type'> {
  return { name, table: 'holding', address, wordOrder: 'big', byteOrder: 'big', scale: 1, offset: 0, access: 'read' };
}

function uint16(name: string, address: number): PointConfig {
  return { ...readOnly(name, address), type: 'uint16' };
}
