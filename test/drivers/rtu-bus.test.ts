// A Modbus RTU bus against the simulator's RTU slave over a real socat pseudo-terminal pair: two
// devices share the line, each request carries its unit id, frames never interleave, and every
// fault ends in a typed error with the line usable again. Timing bounds are generous (2 shared cores).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RtuBusConfig, SiteConfig } from '../../src/config/types.js';
import { Bus } from '../../src/drivers/modbus/bus.js';
import { BadResponseError, ModbusExceptionError, TimeoutError, TransportError } from '../../src/drivers/errors.js';
import type { SimulatedSite } from '../../src/simulator/index.js';
import { openPtyPair, type PtyPair } from '../../tools/devtools/socat.js';
import { makeTempDir, removeTempDir } from '../../tools/devtools/temp-dirs.js';
import { waitFor } from '../../tools/devtools/wait.js';
import { clientRtuBusConfig, silentLogger, startSimulator, testConfig, timed, watchUnhandledRejections } from './bus-fixtures.js';

const TIMEOUT_MS = 300;

const YAML = `
buses:
  - { id: rs485, type: rtu, path: /dev/gridkeeper-test-placeholder, baudRate: 19200, timeoutMs: ${TIMEOUT_MS} }
devices:
  - { id: inv-1, kind: inverter, bus: rs485, unitId: 1, profile: generic-inverter }
  - { id: bms-2, kind: bms, bus: rs485, unitId: 2, profile: generic-bms }
`;

const unhandled = watchUnhandledRejections();
afterAll(() => {
  expect(unhandled.stop()).toEqual([]);
});

/** The simulator on end `a` of a fresh pty pair, the client bus config on end `b`. */
async function rtuSetup(yaml: string): Promise<{ config: SiteConfig; pty: PtyPair; site: SimulatedSite; client: RtuBusConfig }> {
  const pty = await openPtyPair();
  try {
    const config = testConfig(yaml);
    const bus = config.buses[0];
    if (bus?.type !== 'rtu') throw new Error('the test config needs an RTU bus first');
    bus.path = pty.a;
    const site = await startSimulator(config);
    return { config, pty, site, client: clientRtuBusConfig(config, bus.id, pty.b) };
  } catch (err) {
    await pty.close();
    throw err;
  }
}

describe('RTU bus over a socat pty pair', () => {
  let pty: PtyPair;
  let site: SimulatedSite;
  let client: RtuBusConfig;
  let bus: Bus;

  beforeEach(async () => {
    ({ pty, site, client } = await rtuSetup(YAML));
    bus = new Bus(client, { logger: silentLogger });
    bus.start();
  });
  afterEach(async () => {
    await bus.close();
    await site.close();
    await pty.close();
  });

  it('reads every table and writes FC6, FC16, FC5 with the unit id of each request', async () => {
    const inv = bus.unit(1, 'inv-1');
    const bms = bus.unit(2, 'bms-2');
    expect(await inv.read('input', 0, 35)).toEqual(site.device('inv-1').registers('input', 0, 35));
    expect(await bms.read('input', 0, 14)).toEqual(site.device('bms-2').registers('input', 0, 14));
    expect(await inv.read('coil', 0, 1)).toEqual(site.device('inv-1').registers('coil', 0, 1));
    expect(await bms.read('discrete', 0, 4)).toEqual(site.device('bms-2').registers('discrete', 0, 4));
    await inv.writeRegisters(120, [500]);
    await bms.writeRegisters(100, [0x4248, 0]); // float32 50.0 A, high word first
    await inv.writeCoil(0, false);
    expect(site.device('inv-1').value('activePowerLimit')).toBe(50);
    expect(site.device('bms-2').value('chargeCurrentLimit')).toBe(50);
    expect(site.device('inv-1').value('enabled')).toBe(false);
    expect(site.device('inv-1').writes.map((w) => w.fc)).toEqual([6, 5]);
    expect(site.device('bms-2').writes.map((w) => w.fc)).toEqual([16]);
  });

  it('two devices polled concurrently: frames never interleave, every answer is the right device\'s', async () => {
    const inv = bus.unit(1, 'inv-1');
    const bms = bus.unit(2, 'bms-2');
    const rounds = 15;
    for (let i = 0; i < rounds; i++) {
      const [a, b, c, d] = await Promise.all([
        inv.read('input', 0, 35),
        bms.read('input', 0, 14),
        inv.read('holding', 100, 21),
        bms.read('holding', 100, 4),
      ]);
      expect(a).toEqual(site.device('inv-1').registers('input', 0, 35));
      expect(b).toEqual(site.device('bms-2').registers('input', 0, 14));
      expect(c).toEqual(site.device('inv-1').registers('holding', 100, 21));
      expect(d).toEqual(site.device('bms-2').registers('holding', 100, 4));
      // A write to one device between reads of the other (a write re-runs the BMS physics, so its
      // own readings are compared in the round above, not here).
      const [e, , f] = await Promise.all([
        inv.read('input', 0, 35),
        bms.writeRegisters(102, site.device('bms-2').registers('holding', 102, 2)),
        inv.read('coil', 0, 1),
      ]);
      expect(e).toEqual(site.device('inv-1').registers('input', 0, 35));
      expect(f).toEqual(site.device('inv-1').registers('coil', 0, 1));
    }
    // The slave only answers well-formed frames with a good CRC: a single interleaved or broken
    // request would show up here as a timeout or bad response.
    expect(bus.stats()).toMatchObject({ requests: rounds * 7, errors: { timeout: 0, exception: 0, transport: 0, bad_response: 0 } });
    expect(site.device('bms-2').writes).toHaveLength(rounds);
  });

  it('no answer: TimeoutError after timeoutMs; the other device on the line answers next', async () => {
    site.device('inv-1').faults.noAnswer = true;
    const { ms, error } = await timed(() => bus.unit(1, 'inv-1').read('input', 0, 2));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'TIMEOUT', context: { bus: 'rs485', device: 'inv-1', unit: 1, fc: 4, table: 'input', address: 0 } });
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(ms).toBeLessThan(TIMEOUT_MS + 700); // timeout + line silence, with room for a loaded machine
    expect(await bus.unit(2, 'bms-2').read('input', 0, 2)).toEqual(site.device('bms-2').registers('input', 0, 2));
  });

  it('exception: ModbusExceptionError with its code', async () => {
    site.device('bms-2').faults.exception = { code: 3, fc: 16 };
    await expect(bus.unit(2, 'bms-2').writeRegisters(100, [0, 0])).rejects.toSatisfy(
      (e: unknown) => e instanceof ModbusExceptionError && e.exceptionCode === 3 && e.context.fc === 16 && e.context.address === 100,
    );
    expect(await bus.unit(2).read('holding', 100, 2)).toEqual(site.device('bms-2').registers('holding', 100, 2));
  });

  it('corrupt CRC: BadResponseError, and the next request is fine', async () => {
    site.device('inv-1').faults.corruptFrames = true;
    const error = await bus.unit(1, 'inv-1').read('holding', 120, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadResponseError);
    expect((error as BadResponseError).message).toContain('CRC');
    site.device('inv-1').faults.corruptFrames = false;
    expect(await bus.unit(1).read('holding', 120, 1)).toEqual(site.device('inv-1').registers('holding', 120, 1));
    expect(await bus.unit(2).read('holding', 100, 2)).toEqual(site.device('bms-2').registers('holding', 100, 2));
  });

  it('a late answer from another unit is skipped, not taken as the answer in flight', async () => {
    // Own bus with a 600 ms timeout, for wide margins on a loaded machine: A (inv-1) times out at
    // 600 ms and its answer comes at 800 ms; B (bms-2) goes out at ~620 ms and is answered 300 ms
    // later, so A's late frame arrives while B waits (unless B starts 180 ms late), and B's own
    // answer comes 300 ms before B's timeout.
    await bus.close();
    bus = new Bus({ ...client, timeoutMs: 600 }, { logger: silentLogger });
    bus.start();
    site.device('inv-1').faults.delayMs = 800;
    site.device('bms-2').faults.delayMs = 300;
    await expect(bus.unit(1).read('input', 0, 14)).rejects.toBeInstanceOf(TimeoutError);
    expect(await bus.unit(2).read('input', 0, 14)).toEqual(site.device('bms-2').registers('input', 0, 14));
    expect(bus.stats().errors).toMatchObject({ timeout: 1, bad_response: 0 });
  });

  it('the pty vanishing mid-request: TransportError, no crash, later requests fail fast', async () => {
    await bus.unit(1).read('input', 0, 1); // the line works
    site.device('inv-1').faults.delayMs = 200;
    const pending = bus.unit(1).read('input', 0, 1).catch((e: unknown) => e);
    await pty.close(); // socat gone: both pseudo-terminals hang up
    expect(await pending).toBeInstanceOf(TransportError);
    await waitFor('the bus to notice the port is gone', () => bus.state !== 'connected', { timeoutMs: 5000, intervalMs: 20 });
    const later = await timed(() => bus.unit(1).read('input', 0, 1));
    expect(later.error).toBeInstanceOf(TransportError);
    expect(later.ms).toBeLessThan(TIMEOUT_MS + 700);
  });
});

describe('RTU bus losing its serial port', () => {
  it('reopens the port once it is back (a USB adapter unplugged and plugged in again)', async () => {
    // The bus opens a link we control; the adapter "comes back" as a new pty pair behind the link.
    const dir = makeTempDir('rtu-link');
    const link = path.join(dir, 'ttyGK');
    const cleanup: (() => Promise<void>)[] = [() => Promise.resolve(removeTempDir(dir))];
    try {
      let setup = await rtuSetup(YAML);
      cleanup.push(() => setup.site.close(), () => setup.pty.close());
      fs.symlinkSync(setup.pty.b, link);
      const bus = new Bus({ ...setup.client, path: link }, { logger: silentLogger, reconnect: { initialMs: 50, maxMs: 200 } });
      cleanup.push(() => bus.close());
      bus.start();
      expect(await bus.unit(2).read('input', 0, 2)).toEqual(setup.site.device('bms-2').registers('input', 0, 2));

      await setup.site.close();
      await setup.pty.close();
      await waitFor('the bus to lose the port', () => bus.state === 'backoff', { timeoutMs: 5000, intervalMs: 20 });
      await expect(bus.unit(2).read('input', 0, 2)).rejects.toBeInstanceOf(TransportError);

      setup = await rtuSetup(YAML);
      cleanup.push(() => setup.site.close(), () => setup.pty.close());
      fs.rmSync(link);
      fs.symlinkSync(setup.pty.b, link);
      await waitFor('the bus to reopen the port', () => bus.state === 'connected', { timeoutMs: 5000, intervalMs: 20 });
      expect(await bus.unit(2).read('input', 0, 2)).toEqual(setup.site.device('bms-2').registers('input', 0, 2));
      expect(bus.stats().connects).toBe(2);
    } finally {
      for (const fn of cleanup.reverse()) await fn();
    }
  });
});

describe('RTU bus on a path that does not exist', () => {
  it('fails requests with TransportError and keeps retrying in the background', async () => {
    const config = testConfig(YAML);
    const bus = config.buses[0];
    if (bus?.type !== 'rtu') throw new Error('RTU bus expected');
    const b = new Bus({ ...bus, path: '/nonexistent/ttyGK0' }, { logger: silentLogger, reconnect: { initialMs: 50, maxMs: 200 } });
    try {
      b.start();
      const first = await timed(() => b.unit(1).read('input', 0, 1));
      expect(first.error).toBeInstanceOf(TransportError);
      expect(first.ms).toBeLessThan(TIMEOUT_MS + 700);
      await waitFor('a few reconnect attempts', () => b.state === 'backoff', { timeoutMs: 2000, intervalMs: 10 });
      expect(b.stats().connects).toBe(0);
    } finally {
      await b.close();
    }
  });
});
