// The simulator's public face: simulated Modbus devices for tests, demos and `gridkeeper simulate`.
export { SimulatedSite, frozenOptions, DEFAULT_DAY_LENGTH_MS, DEFAULT_TICK_MS, type SimulatedSiteOptions } from './site.js';
export { SimulatedDevice } from './simulated-device.js';
export { noFaults, type Faults, type ExceptionFault } from './faults.js';
export type { WriteRecord } from './write-record.js';
export { SimulatorBindError, SunSpecImageError } from './errors.js';
