// Device physics: output follows the sun / the wind, written setpoints change it, a battery's charge
// follows its current. Most tests drive a manual clock and call tick() (what the site's timer calls)
// so the numbers are exact; setpoints are written over Modbus TCP with modbus-serial, as an EMS would.
import { describe, expect, it } from 'vitest';
import { encodePoint } from '../../src/drivers/device/codec.js';
import { SimulatedSite, DEFAULT_DAY_LENGTH_MS } from '../../src/simulator/index.js';
import { sunFactor } from '../../src/simulator/models/inverter.js';
import { CAPACITY_AH } from '../../src/simulator/models/bms.js';
import { powerCurveW, windTrace } from '../../src/simulator/models/turbine.js';
import { ModbusClient, siteConfig, serveForTests } from './support.js';

const DAY = DEFAULT_DAY_LENGTH_MS;
/** Simulated hours per wall ms: the day of DAY wall ms stands for 24 h. */
const SIM_H_PER_MS = 24 / DAY;

let nowMs = DAY / 2; // simulated noon
const site = new SimulatedSite(siteConfig(), { tickMs: 0, clock: () => nowMs });
const client = new ModbusClient();

serveForTests(site, client);

function num(deviceId: string, point: string): number {
  const v = site.device(deviceId).value(point);
  if (typeof v !== 'number') throw new Error(`${deviceId}.${point} is ${typeof v}`);
  return v;
}

function advance(ms: number): void {
  nowMs += ms;
  for (const d of site.allDevices()) d.tick();
}

describe('inverter', () => {
  it('a written activePowerLimit of 50 halves the output; disabling stops it', async () => {
    nowMs = DAY / 2;
    advance(0);
    const full = num('inv-1', 'activePower');
    expect(full).toBeGreaterThan(8000); // 10 kW rated at noon, clouds dim by at most 10 %
    client.setID(1);
    await client.writeRegister(120, 500); // 50.0 %
    const half = num('inv-1', 'activePower');
    // Noise is 0.2 % and activePower is served in 10 W steps (W_SF = 1): 3 % is generous.
    expect(half / full).toBeGreaterThan(0.47);
    expect(half / full).toBeLessThan(0.53);
    expect(site.device('inv-1').value('state')).toBe(5); // throttled
    const [l1, l2, l3] = [1, 2, 3].map((i) => num('inv-1', `currentL${i}`) * num('inv-1', `voltageL${i}`));
    expect((l1 ?? 0) + (l2 ?? 0) + (l3 ?? 0)).toBeCloseTo(half, -2); // P = sum of V*I per phase (±50 W)
    expect(num('inv-1', 'dcPower')).toBeGreaterThan(half);

    await client.writeCoil(0, false);
    expect(num('inv-1', 'activePower')).toBe(0);
    expect(site.device('inv-1').value('state')).toBe(1); // off
    await client.writeCoil(0, true);
    await client.writeRegister(120, 1000);
    expect(num('inv-1', 'activePower') / full).toBeGreaterThan(0.97);
  });

  it('follows the sun over the compressed day: nothing at night, less in the morning', () => {
    nowMs = 0; // midnight
    advance(0);
    expect(num('inv-1', 'activePower')).toBe(0);
    expect(site.device('inv-1').value('state')).toBe(2); // sleeping
    nowMs = DAY / 2;
    advance(0);
    const noon = num('inv-1', 'activePower');
    nowMs = (DAY * 9) / 24; // 09:00
    advance(0);
    const nine = num('inv-1', 'activePower');
    const expected = sunFactor(9 / 24) / sunFactor(0.5);
    expect(nine / noon).toBeGreaterThan(expected - 0.12); // clouds differ by up to 10 % between the two times
    expect(nine / noon).toBeLessThan(expected + 0.12);
  });

  it('integrates energy over compressed time', () => {
    nowMs = DAY / 2;
    advance(0);
    const e0 = num('inv-1', 'energyTotal');
    const p = num('inv-1', 'activePower');
    advance(1000); // 1 s of wall time = 144 s of simulated time
    const gained = num('inv-1', 'energyTotal') - e0;
    expect(gained).toBeGreaterThan(p * 1000 * SIM_H_PER_MS * 0.95);
    expect(gained).toBeLessThan(p * 1000 * SIM_H_PER_MS * 1.05);
  });
});

describe('turbine', () => {
  it('power follows the power curve of the wind, capped by the curtailment setpoint; stop means 0', async () => {
    // A moment of strong wind, taken from the wind trace itself.
    let t = 0;
    while (windTrace(t) < 11) t += 250;
    nowMs = t;
    advance(0);
    const wind = num('wt-1', 'windSpeed');
    const power = num('wt-1', 'activePower');
    expect(Math.abs(power - powerCurveW(wind, 3_000_000))).toBeLessThan(1); // rounded to whole W
    expect(power).toBeGreaterThan(1_000_000);

    client.setID(2);
    await client.writeRegister(30, 500); // curtail to 500 kW
    expect(num('wt-1', 'activePower')).toBe(500_000);
    expect(site.device('wt-1').value('state')).toBe(3); // curtailed
    const pitchBefore = num('wt-1', 'pitchAngle');
    advance(5000); // the pitch follows its target with a 2 s time constant
    expect(num('wt-1', 'pitchAngle')).toBeGreaterThan(pitchBefore);
    expect(num('wt-1', 'activePower')).toBeLessThanOrEqual(500_000);

    await client.writeCoil(0, false);
    expect(num('wt-1', 'activePower')).toBe(0);
    expect(site.device('wt-1').value('state')).toBe(0);
    await client.writeCoil(0, true);
    await client.writeRegister(30, 3000);
  });
});

describe('bms', () => {
  const bms = site.device('bms-1');

  it('state of charge integrates the current over the capacity', () => {
    nowMs = DAY / 2;
    advance(0);
    const soc0 = num('bms-1', 'stateOfCharge');
    const v0 = num('bms-1', 'packVoltage');
    bms.setValue('packCurrent', 100); // 100 A charging
    advance(5000); // 5 s wall = 0.2 h simulated: 20 Ah of 280 Ah
    const expectedGain = (100 * 5000 * SIM_H_PER_MS * 100) / CAPACITY_AH;
    expect(num('bms-1', 'stateOfCharge') - soc0).toBeCloseTo(expectedGain, 0); // within 0.5 % (0.1 % steps)
    expect(num('bms-1', 'packVoltage')).toBeGreaterThan(v0);
    bms.setValue('packCurrent', -100);
    advance(5000);
    expect(num('bms-1', 'stateOfCharge')).toBeCloseTo(soc0, 0);
    bms.release('packCurrent');
  });

  it('the current stays inside the written charge/discharge limits; zero limits hold the charge', async () => {
    client.setID(3);
    const points = site.device('bms-1').config.points;
    const regs = (name: string, v: number): number[] => {
      const p = points.find((x) => x.name === name);
      if (p === undefined) throw new Error(`bms-1 has no point ${name}`);
      return encodePoint(p, v);
    };
    await client.writeRegisters(100, regs('chargeCurrentLimit', 0));
    await client.writeRegisters(102, regs('dischargeCurrentLimit', 0));
    expect(num('bms-1', 'chargeCurrentLimit')).toBe(0);
    const soc = num('bms-1', 'stateOfCharge');
    for (let i = 0; i < 20; i++) {
      advance(DAY / 40); // through half a simulated day of demand, both directions
      expect(num('bms-1', 'packCurrent')).toBe(0);
    }
    expect(num('bms-1', 'stateOfCharge')).toBe(soc);

    await client.writeRegisters(100, regs('chargeCurrentLimit', 10));
    await client.writeRegisters(102, regs('dischargeCurrentLimit', 20));
    const seen: number[] = [];
    for (let i = 0; i < 40; i++) {
      advance(DAY / 80);
      seen.push(num('bms-1', 'packCurrent'));
    }
    expect(Math.max(...seen)).toBeLessThanOrEqual(10);
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(-20);
    expect(Math.max(...seen)).toBeGreaterThan(0); // the demand pattern does charge and discharge
    expect(Math.min(...seen)).toBeLessThan(0);
  });

  it('raises the alarms when cell limits are crossed', () => {
    bms.setValue('cellVoltageMax', 4.25);
    expect(bms.value('alarmOverVoltage')).toBe(true);
    bms.release('cellVoltageMax');
    expect(bms.value('alarmOverVoltage')).toBe(false);
    bms.setValue('temperatureMax', 55);
    expect(bms.value('alarmOverTemperature')).toBe(true);
    bms.release('temperatureMax');
  });
});

describe('on the wall clock with the tick timer', () => {
  it('values move by themselves and a pinned charging current raises the state of charge', async () => {
    const live = new SimulatedSite(siteConfig(), { tickMs: 50 });
    try {
      await live.start();
      const wt = live.device('wt-1');
      const b = live.device('bms-1');
      b.setValue('packCurrent', 100);
      const wind0 = wt.value('windSpeed');
      const soc0 = b.value('stateOfCharge');
      await new Promise((r) => setTimeout(r, 1000));
      expect(wt.value('windSpeed')).not.toBe(wind0);
      // 1 s wall = 144 s simulated: 100 A adds about 1.4 % to 280 Ah; at least half of it, even if ticks lag.
      expect(Number(b.value('stateOfCharge')) - Number(soc0)).toBeGreaterThan(0.7);
    } finally {
      await live.close();
    }
  });
});
