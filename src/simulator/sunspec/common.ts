// Model 1 (common) of a simulated SunSpec device: who made it, what it is, its firmware and serial
// number, and its Modbus address. The serial number comes from the device id, so it is stable.
import type { PointValue } from '../../config/types.js';
import { hashSeed } from '../random.js';

export interface Identity {
  manufacturer: string;
  model: string;
  version: string;
  /** Put before the 8 hex digits of the device id's hash. */
  serialPrefix: string;
}

/** Published names (m1_...) and values; Opt (options) is left out, as many devices do. */
export function commonValues(identity: Identity, deviceId: string, unitId: number): Map<string, PointValue> {
  return new Map<string, PointValue>([
    ['m1_Mn', identity.manufacturer],
    ['m1_Md', identity.model],
    ['m1_Vr', identity.version],
    ['m1_SN', serialNumber(identity.serialPrefix, deviceId)],
    ['m1_DA', unitId],
  ]);
}

export function serialNumber(prefix: string, deviceId: string): string {
  return `${prefix}${hashSeed(deviceId).toString(16).toUpperCase().padStart(8, '0')}`;
}
