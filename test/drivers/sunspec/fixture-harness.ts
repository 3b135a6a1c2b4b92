// The SunSpec driver tests' setup: a FixtureServer on 127.0.0.1, the real Bus of the product talking
// to it over TCP, and devices configured through the real config loader.
import { pino } from 'pino';
import { parseConfig } from '../../../src/config/load.js';
import type { DeviceConfig, TcpBusConfig } from '../../../src/config/types.js';
import { Bus, type UnitHandle } from '../../../src/drivers/modbus/bus.js';
import { SunSpecDriver } from '../../../src/drivers/sunspec/sunspec-driver.js';
import { FixtureServer } from './fixture-server.js';

export const silent = pino({ level: 'silent' });

export interface Harness {
  server: FixtureServer;
  bus: Bus;
  unit(unitId: number): UnitHandle;
  /** A SunSpec device on this bus, from a device YAML block (`sunspec:` and `points:` keys, indented 4). */
  driver(unitId: number, extra?: string, opts?: { verifyWrites?: boolean }): SunSpecDriver;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const server = new FixtureServer();
  await server.start();
  const cfg: TcpBusConfig = { id: 'lan', type: 'tcp', host: '127.0.0.1', port: server.port, timeoutMs: 500, pauseMs: 0, leaderOnly: false };
  const bus = new Bus(cfg, { logger: silent, reconnect: { initialMs: 20, maxMs: 200 } });
  bus.start();
  return {
    server,
    bus,
    unit: (unitId) => bus.unit(unitId, `pv-${unitId}`),
    driver: (unitId, extra = '', opts = {}) =>
      new SunSpecDriver(sunspecDevice(unitId, extra), bus.unit(unitId, `pv-${unitId}`), { logger: silent, verifyWrites: opts.verifyWrites ?? true }),
    close: async () => {
      await bus.close();
      await server.close();
    },
  };
}

/** A `profile: sunspec` device with unit id `unitId`, parsed by the real loader. */
export function sunspecDevice(unitId: number, extra = ''): DeviceConfig {
  const config = parseConfig(
    `site: s
zookeeper: { connect: "127.0.0.1:2181" }
buses: [{ id: lan, type: tcp, host: 127.0.0.1 }]
devices:
  - id: pv-${unitId}
    kind: inverter
    bus: lan
    unitId: ${unitId}
    profile: sunspec
${extra}`,
    'sunspec-test.yaml',
  );
  const device = config.devices[0];
  if (device === undefined) throw new Error('no device');
  return device;
}
