// Builds the Modbus side of a site from its config: one Bus per configured bus and one DeviceDriver
// per device, each driver holding a UnitHandle of its bus with its own unit id. Nothing is started:
// the agent calls start() on each bus, and close() on each at shutdown.
import type { Logger } from 'pino';
import type { SiteConfig } from '../config/types.js';
import { Bus } from './modbus/bus.js';
import { DeviceDriver } from './device/device-driver.js';

export interface SiteDriverDeps {
  logger: Logger;
}

/** One Bus per `config.buses` entry, by bus id. */
export function createBuses(config: SiteConfig, deps: SiteDriverDeps): Map<string, Bus> {
  const buses = new Map<string, Bus>();
  for (const cfg of config.buses) buses.set(cfg.id, new Bus(cfg, { logger: deps.logger }));
  return buses;
}

/** One DeviceDriver per `config.devices` entry, by device id. Throws RangeError for an unknown bus. */
export function createDrivers(config: SiteConfig, buses: ReadonlyMap<string, Bus>, deps: SiteDriverDeps): Map<string, DeviceDriver> {
  const drivers = new Map<string, DeviceDriver>();
  for (const device of config.devices) {
    const bus = buses.get(device.bus);
    if (bus === undefined) throw new RangeError(`device ${device.id}: unknown bus ${device.bus}`);
    const unit = bus.unit(device.unitId, device.id);
    drivers.set(device.id, new DeviceDriver(device, unit, { logger: deps.logger, verifyWrites: config.control.verifyWrites }));
  }
  return drivers;
}
