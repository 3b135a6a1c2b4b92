// The standard names of the built-in profiles (profiles/generic-*.yaml) for a SunSpec device, taken
// from its m-names (CONTRACT.md section 6), so that a site's EMS reads `activePower` of any inverter
// whatever its register map. The units are the generic profiles' and SunSpec's alike (W, var, VA, V,
// A, Hz, Wh, °C, %): values are taken as they are. For each name the sources are tried in order, a
// 7xx DER model first, then the 1xx/12x models (integer, then float), then storage; the first that
// holds a number (or text) is published, so a 7xx point the device leaves unimplemented falls back
// to its 1xx twin. A name none of the device's models carries is not published; one they all carry
// as "not implemented" is null. The controls (activePowerLimit, chargeRate, dischargeRate) are
// read by their recipes (controls.ts).
//
// Left out on purpose: packCurrent and packPower (model 802's sign convention for A and W is not the
// generic profile's "+ = charging"), temperatureMin/Max (cell temperatures are not in 802 itself).
import type { PointValue } from '../../config/types.js';
import type { SunSpecValue } from './decode.js';

/** How a SunSpec value becomes the standard one. */
type Transform =
  | 'none'
  | 'plusOne' // model 701 InvSt counts from 0 (OFF) where the generic `state` and model 103 St count from 1
  | 'isOne'; // an enum whose 1 means on (CONNECT, CONNECTED) as a bool

interface Source {
  readonly model: number;
  readonly point: string;
  readonly transform?: Transform;
}

export interface StandardName {
  readonly name: string;
  /** The generic profiles' unit, for documentation and metrics. */
  readonly unit?: string;
  readonly from: readonly Source[];
}

const src = (model: number, point: string, transform: Transform = 'none'): Source => ({ model, point, transform });
/** The same point in the single-, split- and three-phase inverter models, integer (10x) and float (11x). */
const inverters = (point: string): Source[] => [101, 102, 103, 111, 112, 113].map((m) => src(m, point));
const threePhase = (point: string): Source[] => [103, 113].map((m) => src(m, point));

export const STANDARD_NAMES: readonly StandardName[] = [
  { name: 'activePower', unit: 'W', from: [src(701, 'W'), ...inverters('W')] },
  { name: 'reactivePower', unit: 'var', from: [src(701, 'Var'), ...inverters('VAr')] },
  { name: 'apparentPower', unit: 'VA', from: [src(701, 'VA'), ...inverters('VA')] },
  { name: 'voltageL1', unit: 'V', from: [src(701, 'VL1'), ...inverters('PhVphA')] },
  { name: 'voltageL2', unit: 'V', from: [src(701, 'VL2'), src(102, 'PhVphB'), src(112, 'PhVphB'), ...threePhase('PhVphB')] },
  { name: 'voltageL3', unit: 'V', from: [src(701, 'VL3'), ...threePhase('PhVphC')] },
  { name: 'currentL1', unit: 'A', from: [src(701, 'AL1'), ...inverters('AphA')] },
  { name: 'currentL2', unit: 'A', from: [src(701, 'AL2'), src(102, 'AphB'), src(112, 'AphB'), ...threePhase('AphB')] },
  { name: 'currentL3', unit: 'A', from: [src(701, 'AL3'), ...threePhase('AphC')] },
  { name: 'frequency', unit: 'Hz', from: [src(701, 'Hz'), ...inverters('Hz')] },
  { name: 'energyTotal', unit: 'Wh', from: [src(701, 'TotWhInj'), ...inverters('WH')] },
  { name: 'dcPower', unit: 'W', from: inverters('DCW') },
  // The generic inverter's `temperature` is the heat sink's; the cabinet's where that is not measured.
  { name: 'temperature', unit: '°C', from: [src(701, 'TmpSnk'), ...inverters('TmpSnk'), src(701, 'TmpCab'), ...inverters('TmpCab')] },
  { name: 'state', from: [src(701, 'InvSt', 'plusOne'), ...inverters('St')] },
  { name: 'enabled', from: [src(701, 'ConnSt', 'isOne'), src(123, 'Conn', 'isOne')] },
  { name: 'serialNumber', from: [src(1, 'SN')] },
  { name: 'stateOfCharge', unit: '%', from: [src(802, 'SoC'), src(124, 'ChaState')] },
  { name: 'stateOfHealth', unit: '%', from: [src(802, 'SoH')] },
  { name: 'packVoltage', unit: 'V', from: [src(802, 'V'), src(124, 'InBatV')] },
  { name: 'cycleCount', from: [src(802, 'NCyc')] },
  { name: 'cellVoltageMin', unit: 'V', from: [src(802, 'CellVMin')] },
  { name: 'cellVoltageMax', unit: 'V', from: [src(802, 'CellVMax')] },
  { name: 'remainingCapacity', unit: 'Ah', from: [src(124, 'StorAval')] },
];

/** The published name of a model point: `m103_W`. */
export function mName(model: number, point: string): string {
  return `m${model}_${point}`;
}

/**
 * The standard values of a device whose decoded m-values are `values` (every model's, by published
 * name); `models` are the ids it has.
 */
export function standardValues(values: Readonly<Record<string, SunSpecValue>>, models: ReadonlySet<number>): Record<string, PointValue | null> {
  const out: Record<string, PointValue | null> = {};
  for (const std of STANDARD_NAMES) {
    for (const s of std.from) {
      if (!models.has(s.model)) continue;
      const raw = values[mName(s.model, s.point)];
      if (raw === undefined) continue; // not read (the device refused it)
      if (raw === null) {
        out[std.name] ??= null; // unless a later source has a value
        continue;
      }
      out[std.name] = transform(raw, s.transform ?? 'none');
      break;
    }
  }
  return out;
}

function transform(value: number | string, how: Transform): PointValue {
  if (typeof value !== 'number') return value;
  switch (how) {
    case 'none':
      return value;
    case 'plusOne':
      return value + 1;
    case 'isOne':
      return value === 1;
  }
}
