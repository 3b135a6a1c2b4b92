// Builds the Modbus side of a site from its config: one Bus per configured bus and one driver per
// device, each driver holding a UnitHandle of its bus with its own unit id: a DeviceDriver for a
// register-map profile, a SunSpecDriver for `profile: sunspec`. Nothing is started: the agent calls
// start() on each bus, and close() on each at shutdown.
import type { Logger } from 'pino';
import type { DeviceConfig, SiteConfig } from '../config/types.js';
import type { Driver } from './driver.js';
import { Bus, type UnitHandle } from './modbus/bus.js';
import { DeviceDriver } from './device/device-driver.js';
import { SunSpecDriver } from './sunspec/sunspec-driver.js';

export interface SiteDriverDeps {
  logger: Logger;
}

/** The driver of one device: by its profile. */
export function createDeviceDriver(device: DeviceConfig, unit: UnitHandle, deps: { logger: Logger; verifyWrites: boolean }): Driver {
  return device.sunspec === undefined ? new DeviceDriver(device, unit, deps) : new SunSpecDriver(device, unit, deps);
}

/** One Bus per `config.buses` entry, by bus id. */
export function createBuses(config: SiteConfig, deps: SiteDriverDeps): Map<string, Bus> {
  const buses = new Map<string, Bus>();
  for (const cfg of config.buses) buses.set(cfg.id, new Bus(cfg, { logger: deps.logger }));
  return buses;
}

/** One driver per `config.devices` entry, by device id. Throws RangeError for an unknown bus. */
export function createDrivers(config: SiteConfig, buses: ReadonlyMap<string, Bus>, deps: SiteDriverDeps): Map<string, Driver> {
  const drivers = new Map<string, Driver>();
  for (const device of config.devices) {
    const bus = buses.get(device.bus);
    if (bus === undefined) throw new RangeError(`device ${device.id}: unknown bus ${device.bus}`);
    const unit = bus.unit(device.unitId, device.id);
    drivers.set(device.id, createDeviceDriver(device, unit, { logger: deps.logger, verifyWrites: config.control.verifyWrites }));
  }
  return drivers;
}
