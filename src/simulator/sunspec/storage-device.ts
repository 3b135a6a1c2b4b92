// What the simulated SunSpec battery serves: models 1, 124 (storage controls) and 802 (battery), an
// LFP pack of 128 cells and 100 Ah (about 41 kWh) behind a 10 kW converter. Points not listed are
// left out ("not implemented"), e.g. 124 VAChaMax and the window and ramp times, 802 DisChaRte and
// WarrDt. The physics that move the values are in storage-model.ts.
import type { PointValue } from '../../config/types.js';
import { commonValues, type Identity } from './common.js';
import type { ChainDevice, ModelSpec } from './register-map.js';

/** Converter rating, W: 124 WChaMax, 802 WChaRteMax / WDisChaRteMax. */
export const STORAGE_RATED_W = 10_000;
export const STORAGE_CAPACITY_AH = 100;
export const STORAGE_CELLS = 128;
/** Nameplate energy, Wh (802 WHRtg). */
export const STORAGE_CAPACITY_WH = 40_960;
export const STORAGE_IDENTITY: Identity = { manufacturer: 'gridkeeper', model: 'GK-SIM-BAT41', version: '2.0.1', serialPrefix: 'GKBT' };

export function storageModels(): ModelSpec[] {
  return [{ id: 1 }, { id: 124 }, { id: 802 }];
}

const NAMEPLATE: ReadonlyArray<readonly [string, PointValue]> = [
  // 124: storage controls; rates in 0.1 % steps, state of charge in 0.1 %
  ['m124_WChaMax_SF', 0], ['m124_WChaMax', STORAGE_RATED_W],
  ['m124_WChaDisChaGra_SF', 0], ['m124_WChaGra', 100], ['m124_WDisChaGra', 100],
  ['m124_StorCtl_Mod', 0],
  ['m124_MinRsvPct_SF', 0], ['m124_MinRsvPct', 10],
  ['m124_ChaState_SF', -1], ['m124_ChaState', 55],
  ['m124_StorAval_SF', -1], ['m124_StorAval', 45],
  ['m124_InBatV_SF', -1], ['m124_InBatV', 416],
  ['m124_ChaSt', 6],
  ['m124_InOutWRte_SF', -1], ['m124_OutWRte', 100], ['m124_InWRte', 100], ['m124_InOutWRte_RvrtTms', 0],
  ['m124_ChaGriSet', 1],
  // 802: battery
  ['m802_AHRtg_SF', 0], ['m802_AHRtg', STORAGE_CAPACITY_AH],
  ['m802_WHRtg_SF', 0], ['m802_WHRtg', STORAGE_CAPACITY_WH],
  ['m802_WChaDisChaMax_SF', 0], ['m802_WChaRteMax', STORAGE_RATED_W], ['m802_WDisChaRteMax', STORAGE_RATED_W],
  ['m802_SoC_SF', -1], ['m802_SoCMax', 100], ['m802_SoCMin', 5], ['m802_SocRsvMax', 95], ['m802_SoCRsvMin', 10], ['m802_SoC', 55],
  ['m802_DoD_SF', -1], ['m802_DoD', 45],
  ['m802_SoH_SF', 0], ['m802_SoH', 98],
  ['m802_NCyc', 312],
  ['m802_ChaSt', 6], ['m802_LocRemCtl', 0], ['m802_Hb', 0], ['m802_CtrlHb', 0], ['m802_AlmRst', 0],
  ['m802_Typ', 4], ['m802_State', 3],
  ['m802_Evt1', 0], ['m802_Evt2', 0], ['m802_EvtVnd1', 0], ['m802_EvtVnd2', 0],
  ['m802_V_SF', -1], ['m802_V', 416], ['m802_VMax', 460.8], ['m802_VMin', 358.4],
  ['m802_CellV_SF', -3], ['m802_CellVMax', 3.26], ['m802_CellVMaxStr', 1], ['m802_CellVMaxMod', 3],
  ['m802_CellVMin', 3.24], ['m802_CellVMinStr', 1], ['m802_CellVMinMod', 6], ['m802_CellVAvg', 3.25],
  ['m802_A_SF', -1], ['m802_A', 0],
  ['m802_AMax_SF', 0], ['m802_AChaMax', 25], ['m802_ADisChaMax', 25],
  ['m802_W_SF', 0], ['m802_W', 0],
  ['m802_SetOp', 1], ['m802_SetInvState', 3],
];

const RANGES: ReadonlyMap<string, readonly [number, number]> = new Map([
  ['m124_WChaMax', [0, STORAGE_RATED_W]],
  ['m124_WChaGra', [1, 100]],
  ['m124_WDisChaGra', [1, 100]],
  ['m124_MinRsvPct', [0, 100]],
  // Negative rates force the other direction (a negative OutWRte charges), as common devices do.
  ['m124_OutWRte', [-100, 100]],
  ['m124_InWRte', [-100, 100]],
  ['m802_SocRsvMax', [0, 100]],
  ['m802_SoCRsvMin', [0, 100]],
]);

/** The battery as one device of a chain. */
export function storageDevice(deviceId: string, unitId: number, prefix = ''): ChainDevice {
  const values = new Map<string, PointValue>([...commonValues(STORAGE_IDENTITY, deviceId, unitId), ...NAMEPLATE]);
  return { prefix, models: storageModels(), values, ranges: RANGES };
}
