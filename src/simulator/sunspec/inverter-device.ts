// What the simulated SunSpec PV inverter serves: models 1, 103, 120, 121, 123 and 160 with two MPPT
// modules, the points it implements with their starting values (engineering units, scale factors
// applied) and the ranges its controls accept. Points not listed here are left out and read as
// "not implemented", as on a real device (e.g. 103 TmpTrns, 120's storage ratings, 123's windows
// and ramp times). The physics that move the values are in inverter-model.ts.
import type { PointValue } from '../../config/types.js';
import { modelDefinition } from '../../drivers/sunspec/models.js';
import { fixedSize } from '../../drivers/sunspec/types.js';
import { SunSpecImageError } from '../errors.js';
import { commonValues, type Identity } from './common.js';
import type { ChainDevice, ModelSpec } from './register-map.js';

/** Nameplate and WMax, W. */
export const INVERTER_RATED_W = 15_000;
/** MPPT inputs served in model 160. */
export const INVERTER_MODULES = 2;
export const INVERTER_IDENTITY: Identity = { manufacturer: 'gridkeeper', model: 'GK-SIM-PV15K', version: '1.4.2', serialPrefix: 'GKPV' };

/** L of model 160 with `modules` inputs: the fixed part and one `module` group per input. */
export function mpptLength(modules: number): number {
  const def = modelDefinition(160);
  const group = def?.groups[0];
  if (def === undefined || group === undefined) throw new SunSpecImageError('model 160 has no definition with a module group');
  return def.length + modules * fixedSize(group);
}

export function inverterModels(): ModelSpec[] {
  return [{ id: 1 }, { id: 103 }, { id: 120 }, { id: 121 }, { id: 123 }, { id: 160, length: mpptLength(INVERTER_MODULES) }];
}

// Scale factors: several negative on purpose (a client must apply them), W in plain watts.
const NAMEPLATE: ReadonlyArray<readonly [string, PointValue]> = [
  // 103: measurements (the physics overwrite the moving ones at once)
  ['m103_A_SF', -2], ['m103_A', 0], ['m103_AphA', 0], ['m103_AphB', 0], ['m103_AphC', 0],
  ['m103_V_SF', -1], ['m103_PPVphAB', 400], ['m103_PPVphBC', 400], ['m103_PPVphCA', 400],
  ['m103_PhVphA', 230], ['m103_PhVphB', 230], ['m103_PhVphC', 230],
  ['m103_W_SF', 0], ['m103_W', 0],
  ['m103_Hz_SF', -2], ['m103_Hz', 50],
  ['m103_VA_SF', 0], ['m103_VA', 0],
  ['m103_VAr_SF', 0], ['m103_VAr', 0],
  ['m103_PF_SF', -1], ['m103_PF', 100],
  ['m103_WH_SF', 0], ['m103_WH', 0],
  ['m103_DCA_SF', -2], ['m103_DCA', 0],
  ['m103_DCV_SF', -1], ['m103_DCV', 620],
  ['m103_DCW_SF', 0], ['m103_DCW', 0],
  ['m103_Tmp_SF', -1], ['m103_TmpCab', 30], ['m103_TmpSnk', 30],
  ['m103_St', 4], ['m103_Evt1', 0], ['m103_Evt2', 0],
  // 120: nameplate of a PV-only inverter (no storage ratings)
  ['m120_DERTyp', 4],
  ['m120_WRtg_SF', 0], ['m120_WRtg', INVERTER_RATED_W],
  ['m120_VARtg_SF', 0], ['m120_VARtg', INVERTER_RATED_W],
  ['m120_VArRtg_SF', 0], ['m120_VArRtgQ1', 9000], ['m120_VArRtgQ2', 9000], ['m120_VArRtgQ3', -9000], ['m120_VArRtgQ4', -9000],
  ['m120_ARtg_SF', -1], ['m120_ARtg', 22],
  ['m120_PFRtg_SF', -3], ['m120_PFRtgQ1', 0.8], ['m120_PFRtgQ2', 0.8], ['m120_PFRtgQ3', -0.8], ['m120_PFRtgQ4', -0.8],
  // 121: settings (WMax is what WMaxLimPct is a percentage of)
  ['m121_WMax_SF', 0], ['m121_WMax', INVERTER_RATED_W],
  ['m121_VRef_SF', 0], ['m121_VRef', 230],
  ['m121_VRefOfs_SF', 0], ['m121_VRefOfs', 0],
  ['m121_VMinMax_SF', 0], ['m121_VMax', 253], ['m121_VMin', 196],
  ['m121_VAMax_SF', 0], ['m121_VAMax', INVERTER_RATED_W],
  ['m121_VArMax_SF', 0], ['m121_VArMaxQ1', 9000], ['m121_VArMaxQ2', 9000], ['m121_VArMaxQ3', -9000], ['m121_VArMaxQ4', -9000],
  ['m121_ECPNomHz_SF', 0], ['m121_ECPNomHz', 50],
  // 123: immediate controls; the limit in 0.01 % steps
  ['m123_Conn', 1],
  ['m123_WMaxLimPct_SF', -2], ['m123_WMaxLimPct', 100], ['m123_WMaxLimPct_RvrtTms', 0], ['m123_WMaxLim_Ena', 0],
  ['m123_OutPFSet_SF', -3], ['m123_OutPFSet', 1], ['m123_OutPFSet_Ena', 0],
  ['m123_VArPct_Ena', 0],
  // 160: two MPPT inputs
  ['m160_DCA_SF', -2], ['m160_DCV_SF', -1], ['m160_DCW_SF', 0], ['m160_DCWH_SF', 0],
  ['m160_Evt', 0], ['m160_N', INVERTER_MODULES],
];

function moduleValues(i: number): Array<[string, PointValue]> {
  const m = `m160_${i}_`;
  return [
    [`${m}ID`, i], [`${m}IDStr`, `MPPT ${String.fromCharCode(64 + i)}`],
    [`${m}DCA`, 0], [`${m}DCV`, 600], [`${m}DCW`, 0], [`${m}DCWH`, 0], [`${m}Tms`, 0],
    [`${m}DCSt`, 4], [`${m}DCEvt`, 0],
  ];
}

/** What a client may write, engineering units (enums and bitfields: their symbols). */
const RANGES: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['m121_WMax', [0, INVERTER_RATED_W]],
  ['m121_VRef', [180, 280]],
  ['m121_VRefOfs', [-20, 20]],
  ['m121_VMax', [230, 300]],
  ['m121_VMin', [150, 230]],
  ['m121_VAMax', [0, INVERTER_RATED_W]],
  ['m121_ECPNomHz', [45, 65]],
  ['m123_WMaxLimPct', [0, 100]],
  ['m123_OutPFSet', [-1, 1]],
]);

/** The inverter as one device of a chain (prefix '' unless another device comes after it). */
export function inverterDevice(deviceId: string, unitId: number, prefix = ''): ChainDevice {
  const values = new Map<string, PointValue>([...commonValues(INVERTER_IDENTITY, deviceId, unitId), ...NAMEPLATE]);
  for (let i = 1; i <= INVERTER_MODULES; i++) for (const [k, v] of moduleValues(i)) values.set(k, v);
  return { prefix, models: inverterModels(), values, ranges: RANGES };
}
