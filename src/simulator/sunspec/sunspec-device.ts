// A simulated SunSpec device as the simulator serves it for a `profile: sunspec` device: the
// register image of its chain (data loggers before it when its `sunspec.index` says so) and its
// physics. The config's own extra points of such a device are the agent's business, not served.
import type { DeviceConfig } from '../../config/types.js';
import { SunSpecDataError } from '../../drivers/sunspec/errors.js';
import type { DeviceImage } from '../device-image.js';
import { SunSpecImageError } from '../errors.js';
import { commonValues, type Identity } from './common.js';
import { simulatedSunSpec } from './device-spec.js';
import { inverterDevice } from './inverter-device.js';
import { SunSpecInverterModel } from './inverter-model.js';
import type { SunSpecModelDeps } from './model-deps.js';
import { sunspecImage, type ChainDevice, type SunSpecImage } from './register-map.js';
import { storageDevice } from './storage-device.js';
import { SunSpecStorageModel } from './storage-model.js';

/** What stands before the configured device in a chain: a data logger with model 1 only. */
const LOGGER_IDENTITY: Identity = { manufacturer: 'gridkeeper', model: 'GK-SIM-LOGGER', version: '1.0.0', serialPrefix: 'GKDL' };

export function sunspecDeviceImage(config: DeviceConfig, deps: SunSpecModelDeps): DeviceImage {
  const spec = simulatedSunSpec(config);
  const chain: ChainDevice[] = [];
  for (let position = 1; position < spec.index; position++) {
    chain.push({ prefix: `d${position}_`, models: [{ id: 1 }], values: commonValues(LOGGER_IDENTITY, `${config.id}/${position}`, config.unitId) });
  }
  chain.push(spec.kind === 'inverter' ? inverterDevice(config.id, config.unitId) : storageDevice(config.id, config.unitId));
  let image: SunSpecImage;
  try {
    image = sunspecImage(chain, spec.baseAddress);
  } catch (err) {
    // A chain that does not fit the address space (a base near 65535): the config is valid for an
    // agent, but no device could be laid out there.
    if (!(err instanceof SunSpecDataError || err instanceof SunSpecImageError)) throw err;
    throw new SunSpecImageError(`device ${config.id}: cannot serve its SunSpec chain at ${spec.baseAddress}: ${err.message}`, { cause: err });
  }
  return {
    points: image.points,
    values: image.values,
    registers: image.registers,
    model: spec.kind === 'inverter' ? new SunSpecInverterModel(deps) : new SunSpecStorageModel(deps),
  };
}
