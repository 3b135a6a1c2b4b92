// The SunSpec device driver against register images laid out by the test's own hand, over a real
// TCP socket: what a poll publishes (m-names, standard names, null for "not implemented"), how
// few requests it takes, each control recipe's writes in the order the device sees them, and what
// happens when the device changes or says something that does not fit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodecError, ReadBackMismatchError } from '../../../src/drivers/errors.js';
import { SunSpecDataError } from '../../../src/drivers/sunspec/errors.js';
import { Bus } from '../../../src/drivers/modbus/bus.js';
import { SunSpecDriver } from '../../../src/drivers/sunspec/sunspec-driver.js';
import { silent, startHarness, sunspecDevice, type Harness } from './fixture-harness.js';
import { M103, M123, M124, M160, M704, M802, SunSpecImage, type ModelWriter } from './fixture-image.js';
import type { FixtureUnit } from './fixture-server.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const open = (): boolean => true;
let nextUnit = 1;

/** An inverter with models 1, 103, 120, 121, 123 and 160 (3 modules) at `base`. */
function inverter(base = 40000): { id: number; fixture: FixtureUnit; m103: ModelWriter; m123: ModelWriter; image: SunSpecImage } {
  const id = nextUnit++;
  const fixture = h.server.unit(id);
  const image = new SunSpecImage(fixture, base);
  image.common(`SN-${id}`);
  const m103 = image.inverter103();
  image.nameplate120();
  image.settings121();
  const m123 = image.controls123();
  image.mppt160(3);
  image.end();
  return { id, fixture, m103, m123, image };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('no error');
}

async function dataError(p: Promise<unknown>): Promise<SunSpecDataError> {
  const err = await rejection(p);
  if (err instanceof SunSpecDataError) return err;
  throw err;
}

/** The fixture's requests while `fn` runs. */
async function requestsDuring(fn: () => Promise<unknown>): Promise<typeof h.server.requests> {
  const before = h.server.requests.length;
  await fn();
  return h.server.requests.slice(before);
}

describe('a poll', () => {
  it('publishes every model point by its m-name, scale factors applied, and the standard names', async () => {
    const { id } = inverter();
    const values = await h.driver(id).poll();
    expect(values).toMatchObject({
      m1_Mn: 'Fixture Solar', m1_SN: `SN-${id}`, m1_Opt: null,
      m103_W: 4520, m103_W_SF: 1, m103_PhVphA: 230.1, m103_V_SF: -1, m103_AphA: 6.54, m103_Hz: 50.01, m103_WH: 1234567, m103_St: 4,
      m120_WRtg: 10000, m121_WMax: 10000,
      m123_WMaxLimPct: 100, m123_WMaxLim_Ena: 0, m123_WMaxLimPct_SF: -1,
      m160_N: 3, m160_1_IDStr: 'PV1', m160_1_DCA: 1.5, m160_2_DCW: 2000, m160_3_DCW: 3000, m160_3_DCWH: 15000,
      // the generic profiles' names, in their units
      activePower: 4520, voltageL1: 230.1, voltageL2: 229.9, voltageL3: 230.5, currentL1: 6.54, currentL2: 6.55, currentL3: 6.53,
      frequency: 50.01, energyTotal: 1234567, reactivePower: 12, dcPower: 4700, state: 4, enabled: true, serialNumber: `SN-${id}`,
      // no limit in force: 100 %, whatever WMaxLimPct holds
      activePowerLimit: 100,
    });
    expect(values).not.toHaveProperty('m160_4_DCW');
    expect(values).not.toHaveProperty('chargeRate');
    expect(values).not.toHaveProperty('m1_Pad');
  });

  it('publishes what the device does not implement as null, never as a number', async () => {
    const { id } = inverter();
    const values = await h.driver(id).poll();
    // VA is 0x8000 (int16), its scale factor 0x8000: both unknown, and so is the standard name.
    expect([values.m103_VA, values.m103_VA_SF, values.apparentPower]).toEqual([null, null, null]);
    // The heat sink is not measured (0x8000): `temperature` falls back to the cabinet, 41.2 °C.
    expect([values.m103_TmpSnk, values.temperature]).toEqual([null, 41.2]);
  });

  it('reads the models in as few requests as their registers need, none over 125', async () => {
    const { id } = inverter();
    const driver = h.driver(id);
    await driver.poll(); // discovery
    const reads = await requestsDuring(() => driver.poll());
    // 1 (68) + 103 (52) + 120 (28) + 121 (32) + 123 (26) + 160 with 3 modules (70) = 276 registers in one run.
    expect(reads.every((r) => r.fc === 3 && r.count <= 125)).toBe(true);
    expect(reads.reduce((n, r) => n + r.count, 0)).toBe(276);
    expect(reads.length).toBe(Math.ceil(276 / 125)); // the physical floor
    expect(driver.stats().requestsPerPoll).toBe(reads.length);
  });

  it('reads the device a daisy chain puts at sunspec.index', async () => {
    const id = nextUnit++;
    const image = new SunSpecImage(h.server.unit(id), 40000);
    image.common('SN-A');
    image.inverter103();
    image.common('SN-B');
    image.model(103, M103.L, (w) => w.i16(M103.W, -1234).i16(M103.W_SF, 0));
    image.end();
    const values = await h.driver(id, '    sunspec: { index: 2 }\n').poll();
    expect(values).toMatchObject({ serialNumber: 'SN-B', activePower: -1234 });
  });

  it('skips a model it does not know, reading the others around it', async () => {
    const id = nextUnit++;
    const image = new SunSpecImage(h.server.unit(id), 0);
    image.common('SN-1');
    image.model(64001, 7, (w) => w.u16(0, 0xbeef));
    image.inverter103();
    const values = await h.driver(id).poll(); // no end marker either
    expect(values.activePower).toBe(4520);
    expect(Object.keys(values).some((k) => k.startsWith('m64001'))).toBe(false);
  });

  it('publishes the config points of the device over the discovered ones of the same name', async () => {
    const { id, fixture } = inverter();
    fixture.set(1000, [7]);
    const values = await h.driver(id, '    points:\n      - { name: gridCode, address: 1000, type: uint16 }\n      - { name: activePower, address: 40084, type: int16 }\n').poll();
    // activePower raw, without the SunSpec scale factor: the config's point wins.
    expect(values).toMatchObject({ gridCode: 7, activePower: 452, m103_W: 4520 });
  });
});

describe('a device with a DER model (7xx) and the older ones', () => {
  function der(): { id: number; m123: ModelWriter; m704: ModelWriter } {
    const id = nextUnit++;
    const image = new SunSpecImage(h.server.unit(id), 40000);
    image.common(`SN-${id}`);
    image.measure701();
    const m704 = image.controls704();
    image.inverter103();
    // 123 says 50 % is in force; 704 says no limit: 704 is the source.
    const m123 = image.model(123, M123.L, (w) => w.u16(M123.WMaxLimPct, 500).u16(M123.WMaxLim_Ena, 1).i16(M123.WMaxLimPct_SF, -1));
    image.end();
    return { id, m123, m704 };
  }

  it('reads the standard names from the 7xx model', async () => {
    const { id } = der();
    const values = await h.driver(id).poll();
    expect(values).toMatchObject({ activePower: 3000, m103_W: 4520, frequency: 50.02, state: 4, enabled: true, activePowerLimit: 100, m123_WMaxLimPct: 50 });
  });

  it('writes activePowerLimit on 704: WMaxLimPct, then WMaxLimPctEna = 1; 123 untouched', async () => {
    const { id, m704 } = der();
    const driver = h.driver(id);
    await driver.poll();
    const requests = await requestsDuring(async () => {
      expect(await driver.write('activePowerLimit', 40, open)).toEqual({ readBack: 40 });
    });
    expect(requests.filter((r) => r.values !== undefined).map((r) => [r.fc, r.address, r.values])).toEqual([
      [16, m704.at(M704.WMaxLimPct), [40]],
      [16, m704.at(M704.WMaxLimPctEna), [1]],
    ]);
    expect((await driver.poll()).activePowerLimit).toBe(40);
  });
});

describe('control recipes', () => {
  it('123: WMaxLimPct scaled by WMaxLimPct_SF, then WMaxLim_Ena = 1, both read back', async () => {
    const { id, m123 } = inverter();
    const driver = h.driver(id);
    await driver.poll();
    const before = h.server.writes(id).length;
    expect(await driver.write('activePowerLimit', 55.5, open)).toEqual({ readBack: 55.5 });
    expect(h.server.writes(id).slice(before)).toEqual([
      { address: m123.at(M123.WMaxLimPct), values: [555] },
      { address: m123.at(M123.WMaxLim_Ena), values: [1] },
    ]);
    expect((await driver.poll()).activePowerLimit).toBe(55.5);
  });

  it('124: the rate, then StorCtl_Mod with its bit set (the other bit kept)', async () => {
    const id = nextUnit++;
    const image = new SunSpecImage(h.server.unit(id), 40000);
    image.common(`SN-${id}`, 'Battery 10k');
    const m124 = image.storage124();
    image.battery802();
    image.end();
    const driver = h.driver(id);
    const first = await driver.poll();
    // 802 is the source of the state of charge (65.5 %), not 124's ChaState.
    expect(first).toMatchObject({ stateOfCharge: 65.5, stateOfHealth: 98, packVoltage: 51.2, chargeRate: 100, dischargeRate: 100 });
    const before = h.server.writes(id).length;
    expect(await driver.write('chargeRate', 25, open)).toEqual({ readBack: 25 });
    expect(await driver.write('dischargeRate', 30.5, open)).toEqual({ readBack: 30.5 });
    expect(h.server.writes(id).slice(before)).toEqual([
      { address: m124.at(M124.InWRte), values: [2500] },
      { address: m124.at(M124.StorCtl_Mod), values: [0b01] },
      { address: m124.at(M124.OutWRte), values: [3050] },
      { address: m124.at(M124.StorCtl_Mod), values: [0b11] },
    ]);
    expect(await driver.poll()).toMatchObject({ chargeRate: 25, dischargeRate: 30.5 });
    expect(M802.SoC).toBe(9); // the fixture's own offset table is what the test relies on
  });

  it('fails when the device does not take the enable flag (read back)', async () => {
    const { id, fixture, m123 } = inverter();
    fixture.ignoredWrites.add(m123.at(M123.WMaxLim_Ena));
    const driver = h.driver(id);
    await driver.poll();
    const err = await rejection(driver.write('activePowerLimit', 20, open));
    expect(err).toBeInstanceOf(ReadBackMismatchError);
    expect((err as ReadBackMismatchError).point).toBe('activePowerLimit (m123_WMaxLim_Ena)');
  });

  it('sends nothing when the gate is closed', async () => {
    const { id } = inverter();
    const driver = h.driver(id);
    await driver.poll();
    const before = h.server.writes(id).length;
    const err = await rejection(driver.write('activePowerLimit', 20, () => false));
    expect((err as { code?: string }).code).toBe('GATE_CLOSED');
    expect(h.server.writes(id).length).toBe(before);
  });

  it('refuses a control the device has no model for, with the reason, before anything is sent', async () => {
    const id = nextUnit++;
    const image = new SunSpecImage(h.server.unit(id), 40000);
    image.common(`SN-${id}`);
    image.storage124();
    image.end();
    const driver = h.driver(id);
    // Not discovered yet: a command may go ahead, the write discovers.
    expect(driver.describeControl('activePowerLimit')).toMatchObject({ ok: true, point: { min: 0, max: 100 } });
    await driver.poll();
    expect(driver.describeControl('activePowerLimit')).toEqual({
      ok: false,
      reason: `point: SunSpec device pv-${id} has no activePowerLimit: it needs model 704 or 123, and the device has models 1, 124`,
    });
    expect(driver.describeControl('m124_InWRte')).toMatchObject({ ok: false });
    expect(driver.describeControl('nonsense')).toBeUndefined();
    const before = h.server.writes(id).length;
    const err = await rejection(driver.write('activePowerLimit', 50, open));
    expect(err).toBeInstanceOf(CodecError);
    expect((err as CodecError).code).toBe('POINT_INVALID');
    expect(h.server.writes(id).length).toBe(before);
  });
});

describe('a device that changes', () => {
  it('is walked again when a read gets an illegal-address answer (firmware update moved the models)', async () => {
    const { id, fixture } = inverter();
    const driver = h.driver(id);
    expect((await driver.poll()).activePower).toBe(4520);
    // New firmware: the chain starts at 0 now, with a model more; nothing is left at 40000.
    fixture.registers.clear();
    const image = new SunSpecImage(fixture, 0);
    image.common(`SN-${id}`);
    image.model(64001, 3);
    image.model(103, M103.L, (w) => w.i16(M103.W, 777).i16(M103.W_SF, 0));
    image.end();
    expect((await driver.poll()).activePower).toBe(777);
    expect(driver.stats().discoveries).toBe(2);
  });

  it('is walked again when a model header no longer says what discovery found', async () => {
    const { id, fixture } = inverter();
    const driver = h.driver(id);
    await driver.poll();
    // Same base, but a model more in front: every later model moved, the old addresses still exist.
    const image = new SunSpecImage(fixture, 40000);
    image.common(`SN-${id}`);
    image.model(64001, 5);
    image.model(103, M103.L, (w) => w.i16(M103.W, 888).i16(M103.W_SF, 0));
    image.end();
    expect((await driver.poll()).activePower).toBe(888);
    expect(driver.stats().discoveries).toBe(2);
  });

  it('is walked again after the bus reconnected', async () => {
    const { id } = inverter();
    const driver = h.driver(id);
    await driver.poll();
    await driver.poll();
    expect(driver.stats().discoveries).toBe(1);
    const connects = h.bus.stats().connects;
    h.server.dropConnections();
    for (let i = 0; i < 50 && h.bus.stats().connects === connects; i++) await new Promise((r) => setTimeout(r, 20));
    await driver.poll();
    expect(driver.stats().discoveries).toBe(2);
  });

  it('is walked once at start, on a bus whose connection the walk itself opened', async () => {
    const { id } = inverter();
    const bus = new Bus({ id: 'fresh', type: 'tcp', host: '127.0.0.1', port: h.server.port, timeoutMs: 500, pauseMs: 0, leaderOnly: false }, { logger: silent });
    bus.start();
    try {
      const driver = new SunSpecDriver(sunspecDevice(id), bus.unit(id), { logger: silent, verifyWrites: true });
      await driver.poll();
      await driver.poll();
      expect(driver.stats().discoveries).toBe(1);
    } finally {
      await bus.close();
    }
  });

  it('refusing reads across models, is read model by model from then on', async () => {
    const { id, fixture, image } = inverter();
    const starts = [40002, 40070, 40122, 40150, 40182, 40208, image.address];
    const modelOf = (a: number): number => starts.findIndex((s, i) => a >= s && a < (starts[i + 1] ?? Infinity));
    fixture.refuseRead = (address, count) => modelOf(address) !== modelOf(address + count - 1);
    const driver = h.driver(id);
    expect((await driver.poll()).activePower).toBe(4520);
    const reads = await requestsDuring(() => driver.poll());
    expect(reads.every((r) => modelOf(r.address) === modelOf(r.address + r.count - 1))).toBe(true);
    expect(reads.reduce((n, r) => n + r.count, 0)).toBe(starts[6]! - 40002);
  });
});

describe('bad data from a device: a clear error, nothing published', () => {
  it('a scale factor out of -10..10', async () => {
    const { id, m103 } = inverter();
    m103.i16(M103.W_SF, 11);
    const driver: SunSpecDriver = h.driver(id);
    const err = await dataError(driver.poll());
    expect([err.code, err.model, err.message]).toEqual(['SCALE_FACTOR_OUT_OF_RANGE', 103, 'model 103: scale factor m103_W_SF is 11, not an integer from -10 to 10']);
    m103.i16(M103.W_SF, -1);
    expect((await driver.poll()).activePower).toBe(45.2); // negative scale factor: 452 × 10^-1
  });

  it('a model the config requires that the device does not have', async () => {
    const { id } = inverter();
    const err = await dataError(h.driver(id, '    sunspec: { models: [1, 123, 124, 802] }\n').poll());
    expect([err.code, err.model]).toEqual(['MODEL_MISSING', 124]);
    expect(err.message).toBe('SunSpec models 124, 802 required by sunspec.models not on the device (it has 1, 103, 120, 121, 123, 160)');
  });

  it('a chain index past the last device', async () => {
    const { id } = inverter();
    const err = await dataError(h.driver(id, '    sunspec: { index: 3 }\n').poll());
    expect(err.code).toBe('DEVICE_NOT_IN_CHAIN');
    expect(err.message).toBe('the SunSpec chain at 40000 has 1 device, so there is no device 3 (sunspec.index)');
  });

  it('a model length the definition does not allow', async () => {
    const id = nextUnit++;
    const image = new SunSpecImage(h.server.unit(id), 40000);
    image.common('SN-1');
    image.model(160, M160.fixed + 15);
    image.end();
    const err = await dataError(h.driver(id).poll());
    expect([err.code, err.model]).toEqual(['LENGTH_MISMATCH', 160]);
  });

  it('a model running past register 65535, and a chain that loops', async () => {
    const overflow = nextUnit++;
    const image = new SunSpecImage(h.server.unit(overflow), 50000);
    image.common('SN-1');
    h.server.unit(overflow).set(image.address, [103, 30000]);
    expect((await dataError(h.driver(overflow).poll())).code).toBe('ADDRESS_OVERFLOW');

    const loop = nextUnit++;
    const fixture = h.server.unit(loop);
    const looping = new SunSpecImage(fixture, 40000);
    looping.common('SN-1');
    looping.inverter103();
    const period = looping.address - 40000;
    fixture.alias = (a) => (a >= 40000 ? 40000 + ((a - 40000) % period) : a);
    expect((await dataError(h.driver(loop).poll())).code).toBe('CHAIN_LOOP');
  });

  it('a device that is not SunSpec', async () => {
    const id = nextUnit++;
    h.server.unit(id).set(40000, [1, 2, 3]);
    const err = await dataError(h.driver(id).poll());
    expect(err.code).toBe('NOT_SUNSPEC');
  });
});
