// The generic inverter's and BMS's own revert timers (profiles activePowerLimitRevertS,
// currentLimitRevertS; src/simulator/models/point-revert.ts): every write of a held point or of the
// timer starts it again with the register's seconds; run out, the device puts the held points back
// to its safe values by itself. Written over Modbus TCP as an EMS would; the device timers run on a
// manual clock so that the seconds are exact.
import { describe, expect, it } from 'vitest';
import { encodePoint } from '../../src/drivers/device/codec.js';
import { SimulatedSite } from '../../src/simulator/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { ModbusClient, siteConfig, serveForTests } from './support.js';

const timers = new FakeClock();
const config = siteConfig();
const site = new SimulatedSite(config, { tickMs: 0, timers });
const client = new ModbusClient();

serveForTests(site, client);

/** Registers of `value` for `point` of `device`, through the codec the agent writes with. */
function regs(device: string, point: string, value: number): number[] {
  const p = config.devices.find((d) => d.id === device)?.points.find((x) => x.name === point);
  if (p === undefined) throw new Error(`${device} has no ${point}`);
  return encodePoint(p, value);
}

describe('generic inverter', () => {
  it('ships without a timer: a limit stays', async () => {
    const inv = site.device('inv-1');
    expect(inv.value('activePowerLimitRevertS')).toBe(0);
    client.setID(1);
    await client.writeRegister(120, 300); // 30 %
    await timers.advance(3_600_000);
    expect(inv.value('activePowerLimit')).toBe(30);
  });

  it('with the timer programmed, the limit returns to 100 % when nobody writes it for that long', async () => {
    const inv = site.device('inv-1');
    client.setID(1);
    await client.writeRegister(108, 10); // 10 s
    await client.writeRegister(120, 400); // 40 %: the timer starts
    await timers.advance(9000);
    expect(inv.value('activePowerLimit')).toBe(40);
    await client.writeRegister(120, 400); // a refresh: starts it again
    await timers.advance(9000);
    expect(inv.value('activePowerLimit')).toBe(40);
    await timers.advance(1000);
    expect(inv.value('activePowerLimit')).toBe(100);
    expect(inv.value('state')).not.toBe(5); // no longer throttled
  });

  it('writing the timer alone starts it again too', async () => {
    const inv = site.device('inv-1');
    client.setID(1);
    await client.writeRegister(120, 250);
    await timers.advance(8000);
    await client.writeRegister(108, 10);
    await timers.advance(8000);
    expect(inv.value('activePowerLimit')).toBe(25);
    await timers.advance(2000);
    expect(inv.value('activePowerLimit')).toBe(100);
  });
});

describe('generic BMS', () => {
  it('both current limits return to 100 A when their shared timer runs out', async () => {
    const bms = site.device('bms-1');
    client.setID(3);
    await client.writeRegister(104, 5);
    await client.writeRegisters(100, regs('bms-1', 'chargeCurrentLimit', 20));
    await timers.advance(3000);
    await client.writeRegisters(102, regs('bms-1', 'dischargeCurrentLimit', 30)); // restarts the shared timer
    await timers.advance(4000);
    expect([bms.value('chargeCurrentLimit'), bms.value('dischargeCurrentLimit')]).toEqual([20, 30]);
    await timers.advance(1000);
    expect([bms.value('chargeCurrentLimit'), bms.value('dischargeCurrentLimit')]).toEqual([100, 100]);
  });
});
