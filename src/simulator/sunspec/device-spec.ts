// Which SunSpec device the simulator serves for a device with `profile: sunspec`, read from its
// config: the storage device for `kind: bms`, the PV inverter for every other kind; the base address
// and the position in a daisy chain from its `sunspec` block (CONTRACT.md section 6).
import { SUNSPEC_PROFILE } from '../../config/schema.js';
import type { DeviceConfig } from '../../config/types.js';

/** The three base addresses discovery tries, in its order; `auto` serves at the first. */
export const SUNSPEC_BASE_ADDRESSES = [40000, 0, 50000] as const;

export interface SimulatedSunSpec {
  kind: 'inverter' | 'storage';
  /** Address of the "SunS" marker. */
  baseAddress: number;
  /** 1-based position in the chain: devices before it are served as data loggers (model 1 only). */
  index: number;
}

export function isSunSpecDevice(device: DeviceConfig): boolean {
  return device.profile === SUNSPEC_PROFILE;
}

export function simulatedSunSpec(device: DeviceConfig): SimulatedSunSpec {
  const base = device.sunspec?.baseAddress ?? 'auto';
  return {
    kind: device.kind === 'bms' ? 'storage' : 'inverter',
    baseAddress: base === 'auto' ? SUNSPEC_BASE_ADDRESSES[0] : base,
    index: device.sunspec?.index ?? 1,
  };
}
