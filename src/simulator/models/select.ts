// Which physics a simulated device gets: by built-in profile first, else by kind; meters, "other"
// and unknown profiles hold fixed values (writes are stored and read back).
import type { DeviceConfig } from '../../config/types.js';
import type { Random } from '../random.js';
import { BmsModel } from './bms.js';
import { InverterModel } from './inverter.js';
import type { DeviceModel } from './model.js';
import type { PointRevertDeps } from './point-revert.js';
import { TurbineModel } from './turbine.js';

const FIXED: DeviceModel = { init: () => {}, step: () => {} };

export type ModelName = 'inverter' | 'turbine' | 'bms' | 'fixed';

export function modelNameFor(device: DeviceConfig): ModelName {
  switch (device.profile) {
    case 'generic-inverter':
      return 'inverter';
    case 'generic-turbine':
      return 'turbine';
    case 'generic-bms':
      return 'bms';
  }
  if (device.kind === 'inverter' || device.kind === 'turbine' || device.kind === 'bms') return device.kind;
  return 'fixed';
}

/** `deps`: the device's own timers (revert timers), which run in real time. */
export function createModel(device: DeviceConfig, random: Random, deps: PointRevertDeps): DeviceModel {
  switch (modelNameFor(device)) {
    case 'inverter':
      return new InverterModel(device.id, random, deps);
    case 'turbine':
      return new TurbineModel(random);
    case 'bms':
      return new BmsModel(random, deps);
    case 'fixed':
      return FIXED;
  }
}
