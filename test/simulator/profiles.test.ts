// Every built-in profile is loaded, served by the simulator over a real TCP socket and read back with
// an independent client (modbus-serial); the registers decode, with the codec, to the values the
// simulator says it serves. Physics are frozen (tickMs 0) so values hold still between read and compare.
import { describe, expect, it } from 'vitest';
import { profileNames } from '../../src/config/profiles.js';
import type { DeviceConfig, Table } from '../../src/config/types.js';
import { pointWidth } from '../../src/config/point-width.js';
import { decodePoint } from '../../src/drivers/device/codec.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { ModbusClient, PROFILES_YAML, pointBlocks, siteConfig, serveForTests } from './support.js';

const KIND: Record<string, string> = { 'generic-inverter': 'inverter', 'generic-turbine': 'turbine', 'generic-bms': 'bms' };

/** One device per profile found in profiles/, units 1..n, plus the meter of PROFILES_YAML. */
function everyProfileYaml(): string {
  const devices = profileNames().map(
    (name, i) => `  - { id: dev-${name}, kind: ${KIND[name] ?? 'other'}, bus: lan, unitId: ${i + 1}, profile: ${name} }`,
  );
  const meter = PROFILES_YAML.slice(PROFILES_YAML.indexOf('  - id: meter-1')).replace('unitId: 4', `unitId: ${devices.length + 1}`);
  return PROFILES_YAML.slice(0, PROFILES_YAML.indexOf('devices:')) + 'devices:\n' + devices.join('\n') + '\n' + meter;
}

async function readTable(client: ModbusClient, table: Table, address: number, count: number): Promise<number[]> {
  switch (table) {
    case 'holding':
      return (await client.readHoldingRegisters(address, count)).data;
    case 'input':
      return (await client.readInputRegisters(address, count)).data;
    case 'coil':
      return (await client.readCoils(address, count)).data.slice(0, count).map(Number);
    case 'discrete':
      return (await client.readDiscreteInputs(address, count)).data.slice(0, count).map(Number);
  }
}

describe('every built-in profile, served and read back over TCP', () => {
  const config = siteConfig(everyProfileYaml());
  const site = new SimulatedSite(config, frozenOptions());
  const client = new ModbusClient();

  serveForTests(site, client);

  it('has the three generic profiles at least', () => {
    expect(profileNames()).toEqual(expect.arrayContaining(['generic-inverter', 'generic-turbine', 'generic-bms']));
  });

  const devices: DeviceConfig[] = config.devices;
  it.each(devices.map((d) => [d.id, d] as const))('%s: every point reads back as served', async (_id, device) => {
    client.setID(device.unitId);
    const served = site.device(device.id);
    const regsByTable = new Map<Table, Map<number, number>>();
    for (const table of ['holding', 'input', 'coil', 'discrete'] as const) {
      const got = new Map<number, number>();
      for (const block of pointBlocks(device.points, table)) {
        const data = await readTable(client, table, block.address, block.count);
        data.forEach((v, i) => got.set(block.address + i, v));
      }
      regsByTable.set(table, got);
    }
    const sfOf = (name: string | undefined): number => {
      if (name === undefined) return 0;
      const v = served.value(name);
      return typeof v === 'number' ? v : 0;
    };
    for (const p of device.points) {
      const got = regsByTable.get(p.table) ?? new Map<number, number>();
      const regs = Array.from({ length: pointWidth(p) }, (_, i) => got.get(p.address + i) ?? -1);
      expect(regs, `${device.id}.${p.name} registers`).toEqual(served.pointRegisters(p.name));
      expect(decodePoint(p, regs, sfOf(p.scaleFactor)), `${device.id}.${p.name} value`).toEqual(served.value(p.name));
    }
  });

  it('serves plausible values (frozen at simulated noon)', () => {
    const inv = site.device('dev-generic-inverter');
    expect(inv.value('activePower')).toBeGreaterThan(5000); // 10 kW rated, sun at its peak, light clouds
    expect(inv.value('activePower')).toBeLessThanOrEqual(10000);
    expect(inv.value('W_SF')).toBe(1);
    expect(inv.value('voltageL1')).toBeCloseTo(230, -1);
    expect(inv.value('frequency')).toBeCloseTo(50, 0);
    expect(inv.value('serialNumber')).toMatch(/^GK-INV-[0-9a-f]{8}$/);
    expect(inv.value('activePowerLimit')).toBe(100);
    expect(inv.value('enabled')).toBe(true);
    expect(inv.value('state')).toBe(4); // producing

    const wt = site.device('dev-generic-turbine');
    const wind = wt.value('windSpeed');
    expect(wind).toBeGreaterThan(0);
    expect(wind).toBeLessThan(20);
    expect(wt.value('curtailmentSetpoint')).toBe(3000);
    expect(wt.value('running')).toBe(true);

    const bms = site.device('dev-generic-bms');
    expect(bms.value('stateOfCharge')).toBe(55);
    expect(bms.value('stateOfHealth')).toBe(97);
    expect(bms.value('chargeCurrentLimit')).toBe(100);
    expect(bms.value('packVoltage')).toBeGreaterThan(300);
    expect(bms.value('packVoltage')).toBeLessThan(500);

    const meter = site.device('meter-1');
    expect(meter.value('power')).toBe(1500);
    expect(meter.value('voltage')).toBe(230);
    expect(meter.value('ctRatio')).toBe(501); // midpoint 500.5 of 1..1000, rounded half away from zero to uint16
    expect(meter.value('label')).toBe('SIM-mete'); // `SIM-<device id>` cut to 4 registers
  });
});
