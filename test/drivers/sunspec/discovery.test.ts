// SunSpec discovery against register images laid out by the test's own hand (fixture-image.ts),
// served over a real TCP socket and read through the product's Bus: the three base addresses,
// unknown models, daisy chains, a missing end marker, and every way a chain can be broken.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverChain, type HoldingReader } from '../../../src/drivers/sunspec/discovery.js';
import { SunSpecDataError } from '../../../src/drivers/sunspec/errors.js';
import { startHarness, type Harness } from './fixture-harness.js';
import { M1, M103, SunSpecImage } from './fixture-image.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

let nextUnit = 1;
/** A fresh unit of the fixture server and the UnitHandle reading it. */
function device(): { id: number; unit: ReturnType<Harness['unit']>; fixture: ReturnType<Harness['server']['unit']> } {
  const id = nextUnit++;
  return { id, unit: h.unit(id), fixture: h.server.unit(id) };
}

async function dataError(p: Promise<unknown>): Promise<SunSpecDataError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SunSpecDataError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('the marker', () => {
  it.each([40000, 0, 50000])('is found at %i by auto and by the configured address', async (base) => {
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, base);
    image.common('SN-1');
    image.inverter103();
    image.end();
    const expected = {
      baseAddress: base,
      devices: [{ index: 1, models: [{ id: 1, start: base + 2, length: M1.L }, { id: 103, start: base + 2 + 2 + M1.L, length: M103.L }] }],
    };
    expect(await discoverChain(unit, { baseAddress: 'auto' })).toEqual(expected);
    expect(await discoverChain(unit, { baseAddress: base })).toEqual(expected);
  });

  it('is looked for only at the configured address when there is one', async () => {
    const { unit, fixture } = device();
    new SunSpecImage(fixture, 50000).common('SN-1');
    const err = await dataError(discoverChain(unit, { baseAddress: 40000 }));
    expect([err.code, err.model]).toEqual(['NOT_SUNSPEC', null]);
    expect(err.message).toBe('not a SunSpec device: the device answers, but no "SunS" marker at 40000 (40000: exception 2 (illegal data address))');
  });

  it('is missing on a device that answers but is not SunSpec: an error that says so', async () => {
    const { unit, fixture } = device();
    fixture.set(40000, [0x1234, 0x0001]);
    fixture.set(0, [0, 0]);
    const err = await dataError(discoverChain(unit, { baseAddress: 'auto' }));
    expect(err.code).toBe('NOT_SUNSPEC');
    expect(err.message).toBe(
      'not a SunSpec device: the device answers, but no "SunS" marker at 40000, 0, 50000 ' +
        '(40000: 0x1234 0x0001; 0: 0x0000 0x0000; 50000: exception 2 (illegal data address))',
    );
  });
});

describe('the chain', () => {
  it('skips a model it does not know by its length', async () => {
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, 40000);
    image.common('SN-1');
    image.model(64001, 7, (w) => w.u16(0, 0xbeef));
    image.inverter103();
    image.end();
    const found = await discoverChain(unit, { baseAddress: 'auto' });
    expect(found.devices[0]?.models).toEqual([
      { id: 1, start: 40002, length: 66 },
      { id: 64001, start: 40070, length: 7 },
      { id: 103, start: 40079, length: 50 },
    ]);
  });

  it('starts a new device at each model 1 (daisy chain)', async () => {
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, 40000);
    image.common('SN-A');
    image.inverter103();
    const second = image.common('SN-B').start;
    image.inverter103();
    image.mppt160(2);
    image.end();
    const found = await discoverChain(unit, { baseAddress: 'auto' });
    expect(found.devices.map((d) => [d.index, d.models.map((m) => m.id)])).toEqual([
      [1, [1, 103]],
      [2, [1, 103, 160]],
    ]);
    expect(found.devices[1]?.models[0]?.start).toBe(second);
    expect(found.devices[1]?.models[2]?.length).toBe(8 + 2 * 20);
  });

  it('ends cleanly where a device without an end marker has no more registers', async () => {
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, 40000);
    image.common('SN-1');
    image.inverter103();
    const found = await discoverChain(unit, { baseAddress: 40000 });
    expect(found.devices[0]?.models.map((m) => m.id)).toEqual([1, 103]);
  });

  it('reads no more than 125 registers at a time', async () => {
    const before = h.server.requests.length;
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, 0);
    image.common('SN-1');
    image.mppt160(20); // 408 registers: a model longer than any read
    image.end();
    await discoverChain(unit, { baseAddress: 'auto' });
    const reads = h.server.requests.slice(before);
    expect(reads.length).toBeGreaterThan(0);
    for (const r of reads) expect(r.count).toBeLessThanOrEqual(125);
  });
});

describe('a broken chain is a clear error for that device', () => {
  it('a model running past register 65535', async () => {
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, 50000);
    image.common('SN-1');
    fixture.set(image.address, [103, 30000]);
    const err = await dataError(discoverChain(unit, { baseAddress: 'auto' }));
    expect([err.code, err.model]).toEqual(['ADDRESS_OVERFLOW', 103]);
    expect(err.message).toBe('model 103 at 50070: length 30000 runs past register 65535');
  });

  it('a model whose length disagrees with its definition', async () => {
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, 40000);
    image.common('SN-1');
    image.model(103, 48);
    image.end();
    const err = await dataError(discoverChain(unit, { baseAddress: 'auto' }));
    expect([err.code, err.model]).toEqual(['LENGTH_MISMATCH', 103]);
    expect(err.message).toContain('model 103 at 40070: the device says length 48, but the definition needs 50');
  });

  it('a chain that loops: a device that repeats its registers after the last model', async () => {
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, 40000);
    image.common('SN-1');
    image.inverter103();
    // No end marker, and every address past the chain reads as the chain again (high address bits ignored).
    const period = image.address - 40000;
    fixture.alias = (a) => (a >= 40000 ? 40000 + ((a - 40000) % period) : a);
    fixture.exists = (a) => fixture.registers.has(a);
    const err = await dataError(discoverChain(unit, { baseAddress: 'auto' }));
    expect([err.code, err.model]).toEqual(['CHAIN_LOOP', null]);
    expect(err.message).toBe('the model chain from 40000 meets the "SunS" marker again at 40122: the device seems to repeat its registers');
  });

  it('a chain that does not end: more models than any device has', async () => {
    const { unit, fixture } = device();
    const image = new SunSpecImage(fixture, 0);
    image.common('SN-1');
    for (let i = 0; i < 600; i++) image.model(64002, 0);
    const err = await dataError(discoverChain(unit as HoldingReader, { baseAddress: 0 }));
    expect(err.code).toBe('CHAIN_LOOP');
    expect(err.message).toBe('the model chain from 0 has more than 512 models: it does not end');
  });
});
