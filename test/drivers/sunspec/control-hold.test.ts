// A SunSpec control as a held setpoint (CONTRACT.md section 7; control-hold.ts), against register
// images laid out by hand over a real TCP socket: the model's revert timer is programmed before the
// recipe, only where it differs (123/124 uint16 s, 704 uint32 s with WMaxLimPctRvrt set to 100 %),
// nothing where the device does not implement it, and a release switches the control off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './fixture-harness.js';
import { M123, M124, M704, SunSpecImage } from './fixture-image.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const open = (): boolean => true;
let nextUnit = 1;

/** The writes of unit `id` while `fn` runs, as [address, values]. */
async function writesDuring(id: number, fn: () => Promise<unknown>): Promise<Array<[number, number[]]>> {
  const before = h.server.writes(id).length;
  await fn();
  return h.server.writes(id).slice(before).map((w) => [w.address, w.values]);
}

function inverter123(timer: number): { id: number; at: (offset: number) => number } {
  const id = nextUnit++;
  const image = new SunSpecImage(h.server.unit(id), 40000);
  image.common(`SN-${id}`);
  image.inverter103();
  const m123 = image.controls123();
  m123.u16(M123.WMaxLimPct_RvrtTms, timer);
  image.end();
  return { id, at: (o) => m123.at(o) };
}

describe('a held SunSpec control', () => {
  it('has the fallback of its model: switched off (100 %) after sunspec.revertSeconds', () => {
    const { id } = inverter123(0);
    const driver = h.driver(id);
    expect(driver.fallbackOf('activePowerLimit')).toEqual({ value: 100, revertSeconds: 60 });
    expect(driver.fallbackOf('m123_WMaxLimPct')).toBeUndefined();
    expect(h.driver(id, '    points:\n      - { name: activePowerLimit, address: 1000, type: uint16, access: readwrite, min: 0, max: 100 }\n').fallbackOf('activePowerLimit')).toBeUndefined();
  });

  it('123: the timer (uint16 s) before the setpoint and its switch, and only where it differs', async () => {
    const { id, at } = inverter123(0);
    const driver = h.driver(id);
    await driver.poll();
    expect(await writesDuring(id, () => driver.writeHeld('activePowerLimit', 40, open))).toEqual([
      [at(M123.WMaxLimPct_RvrtTms), [60]],
      [at(M123.WMaxLimPct), [400]],
      [at(M123.WMaxLim_Ena), [1]],
    ]);
    await driver.poll(); // reads the timer back: 60
    expect(await writesDuring(id, () => driver.writeHeld('activePowerLimit', 40, open))).toEqual([
      [at(M123.WMaxLimPct), [400]],
      [at(M123.WMaxLim_Ena), [1]],
    ]);
  });

  it('123 without a timer (0xFFFF, not implemented): the control alone', async () => {
    const { id, at } = inverter123(0xffff);
    const driver = h.driver(id);
    await driver.poll();
    expect(await writesDuring(id, () => driver.writeHeld('activePowerLimit', 30, open))).toEqual([
      [at(M123.WMaxLimPct), [300]],
      [at(M123.WMaxLim_Ena), [1]],
    ]);
  });

  it('123: released by switching it off, read back; nothing sent with the gate closed', async () => {
    const { id, at } = inverter123(60);
    const driver = h.driver(id);
    await driver.poll();
    await driver.writeHeld('activePowerLimit', 40, open);
    const none = await writesDuring(id, () => driver.releaseHeld('activePowerLimit', () => false).catch((err: unknown) => err));
    expect(none).toEqual([]);
    let result: unknown;
    expect(await writesDuring(id, async () => (result = await driver.releaseHeld('activePowerLimit', open)))).toEqual([[at(M123.WMaxLim_Ena), [0]]]);
    expect(result).toEqual({ readBack: 100 });
    expect((await driver.poll()).activePowerLimit).toBe(100);
  });

  it('704: the uint32 timer and the revert value (100 %) where they differ, then the recipe', async () => {
    const id = nextUnit++;
    const image = new SunSpecImage(h.server.unit(id), 40000);
    image.common(`SN-${id}`);
    image.measure701();
    const m704 = image.controls704();
    m704.u16(M704.WMaxLimPctRvrt, 50); // the device would revert to 50 %: not a safe fallback
    image.inverter103();
    image.end();
    const driver = h.driver(id, '    sunspec: { revertSeconds: 300 }\n');
    await driver.poll();
    expect(await writesDuring(id, () => driver.writeHeld('activePowerLimit', 40, open))).toEqual([
      [m704.at(M704.WMaxLimPctRvrtTms), [0, 300]], // uint32, high word first
      [m704.at(M704.WMaxLimPctRvrt), [100]],
      [m704.at(M704.WMaxLimPct), [40]],
      [m704.at(M704.WMaxLimPctEna), [1]],
    ]);
    await driver.poll();
    expect(await writesDuring(id, () => driver.writeHeld('activePowerLimit', 45, open))).toEqual([
      [m704.at(M704.WMaxLimPct), [45]],
      [m704.at(M704.WMaxLimPctEna), [1]],
    ]);
  });

  it('124: a release clears its own bit of StorCtl_Mod and keeps the other', async () => {
    const id = nextUnit++;
    const image = new SunSpecImage(h.server.unit(id), 40000);
    image.common(`SN-${id}`, 'Battery 10k');
    const m124 = image.storage124();
    image.battery802();
    image.end();
    const driver = h.driver(id);
    await driver.poll();
    await driver.writeHeld('chargeRate', 25, open);
    await driver.writeHeld('dischargeRate', 30, open);
    expect(await writesDuring(id, () => driver.releaseHeld('chargeRate', open))).toEqual([[m124.at(M124.StorCtl_Mod), [0b10]]]);
    expect(await driver.poll()).toMatchObject({ chargeRate: 100, dischargeRate: 30 });
  });
});
