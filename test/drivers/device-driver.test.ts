// DeviceDriver over a real bus against the simulator (TCP on 127.0.0.1 and RTU over a socat pty
// pair): every built-in profile read in full, the read plan adapting to exception 2 once, typed
// failures, device backoff, isolation between devices and buses, and writes (FC5/6/16, the gate,
// bit read-modify-write, read-back). Timing bounds are generous (2 shared cores) and say why.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { profileNames } from '../../src/config/profiles.js';
import type { DeviceConfig, SiteConfig } from '../../src/config/types.js';
import { Bus } from '../../src/drivers/modbus/bus.js';
import { DeviceDriver, type DeviceDriverDeps } from '../../src/drivers/device/device-driver.js';
import {
  CodecError,
  GateClosedError,
  ModbusExceptionError,
  ReadBackMismatchError,
  TimeoutError,
  TransportError,
} from '../../src/drivers/errors.js';
import { createBuses, createDrivers } from '../../src/drivers/site.js';
import { noFaults, type SimulatedSite } from '../../src/simulator/index.js';
import { openPtyPair, type PtyPair } from '../../tools/devtools/socat.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { sleep } from '../../tools/devtools/wait.js';
import { clientBusConfig, clientRtuBusConfig, clientTcpBusConfig, silentLogger, startSimulator, testConfig, timed, watchUnhandledRejections } from './bus-fixtures.js';

const TIMEOUT_MS = 300;
const KIND: Record<string, string> = { 'generic-inverter': 'inverter', 'generic-turbine': 'turbine', 'generic-bms': 'bms' };

/** One device per built-in profile on bus `busId`, units 1..n. */
function profileDevices(busId: string): string {
  return profileNames()
    .map((name, i) => `  - { id: ${name}, kind: ${KIND[name] ?? 'other'}, bus: ${busId}, unitId: ${i + 1}, profile: ${name} }`)
    .join('\n');
}

const unhandled = watchUnhandledRejections();
afterAll(() => {
  expect(unhandled.stop()).toEqual([]);
});

/** The simulator's values for every readable point of a device. */
function servedValues(site: SimulatedSite, device: DeviceConfig): Record<string, unknown> {
  return Object.fromEntries(device.points.filter((p) => p.access !== 'write').map((p) => [p.name, site.device(device.id).value(p.name)]));
}

function driverFor(config: SiteConfig, bus: Bus, id: string, deps: Partial<DeviceDriverDeps> = {}): DeviceDriver {
  const device = config.devices.find((d) => d.id === id);
  if (device === undefined) throw new RangeError(`no device ${id}`);
  return new DeviceDriver(device, bus.unit(device.unitId, device.id), { logger: silentLogger, verifyWrites: true, ...deps });
}

describe('every built-in profile, polled over TCP', () => {
  const config = testConfig(`
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: 1502, timeoutMs: 1000 }
devices:
${profileDevices('lan')}
`);
  let site: SimulatedSite;
  let buses: Map<string, Bus>;

  beforeAll(async () => {
    site = await startSimulator(config);
    for (const b of config.buses) if (b.type === 'tcp') b.port = site.tcpAddress(b.id).port;
    buses = createBuses(config, { logger: silentLogger });
    for (const b of buses.values()) b.start();
  });
  afterAll(async () => {
    for (const b of buses.values()) await b.close();
    await site.close();
  });

  it('reads every readable point as the simulator serves it, in the planned number of requests', async () => {
    const drivers = createDrivers(config, buses, { logger: silentLogger });
    const bus = buses.get('lan');
    if (bus === undefined) throw new Error('no bus lan');
    const requestsPerPoll: Record<string, number> = {};
    for (const device of config.devices) {
      const driver = drivers.get(device.id);
      if (driver === undefined) throw new Error(`no driver for ${device.id}`);
      const before = bus.stats().requests;
      const values = await driver.poll();
      requestsPerPoll[device.id] = bus.stats().requests - before;
      expect(values, device.id).toEqual(servedValues(site, device));
      expect(requestsPerPoll[device.id]).toBe(driver.stats().requestsPerPoll);
      expect(driver.stats().lastPollDurationMs).toBeGreaterThan(0);
    }
    // One poll of each built-in profile: one request per table it uses (gaps bridged).
    expect(requestsPerPoll).toMatchObject({ 'generic-inverter': 3, 'generic-turbine': 3, 'generic-bms': 3 });
  });
});

describe('every built-in profile, polled over RTU (socat pty pair)', () => {
  let pty: PtyPair;
  let site: SimulatedSite;
  let config: SiteConfig;
  let bus: Bus;

  beforeAll(async () => {
    pty = await openPtyPair();
    config = testConfig(`
buses:
  - { id: rs485, type: rtu, path: ${pty.a}, baudRate: 38400, timeoutMs: 1000 }
devices:
${profileDevices('rs485')}
`);
    site = await startSimulator(config);
    bus = new Bus(clientRtuBusConfig(config, 'rs485', pty.b), { logger: silentLogger });
    bus.start();
  });
  afterAll(async () => {
    await bus?.close();
    await site?.close();
    await pty?.close();
  });

  it('all devices polled at once on the one line: every value right, no error', async () => {
    const drivers = config.devices.map((d) => driverFor(config, bus, d.id));
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(drivers.map((d) => d.poll()));
      config.devices.forEach((device, i) => expect(results[i], device.id).toEqual(servedValues(site, device)));
    }
    expect(bus.stats().errors).toEqual({ timeout: 0, exception: 0, transport: 0, bad_response: 0 });
  });
});

const MIXED_YAML = `
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: 1502, timeoutMs: ${TIMEOUT_MS} }
  - { id: lan2, type: tcp, host: 127.0.0.1, port: 1503, timeoutMs: 2000 }
devices:
  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter }
  - id: wt-2
    kind: turbine
    bus: lan
    unitId: 2
    profile: generic-turbine
    points:
      # A model output made writable: whatever is written, the physics overwrite it at once.
      - { name: activePower, table: holding, address: 4, type: int32, unit: W, access: readwrite, min: 0, max: 5000000 }
  - id: io-3
    kind: other
    bus: lan
    unitId: 3
    points:
      - { name: W_SF, table: holding, address: 0, type: int16 }
      - { name: powerSetpoint, table: holding, address: 1, type: int16, scaleFactor: W_SF, unit: W, access: readwrite, min: -30000, max: 30000 }
      - { name: flagA, table: holding, address: 2, type: bool, bit: 0, access: readwrite }
      - { name: flagD, table: holding, address: 2, type: bool, bit: 3, access: readwrite }
      - { name: resetOnly, table: holding, address: 3, type: uint16, access: write, min: 0, max: 1 }
  - { id: inv-9, kind: inverter, bus: lan2, unitId: 9, profile: generic-inverter }
`;

describe('DeviceDriver against the simulator over TCP', () => {
  const config = testConfig(MIXED_YAML);
  let site: SimulatedSite;
  let proxy: TcpProxy;
  let lan: Bus;
  let lan2: Bus;

  beforeAll(async () => {
    site = await startSimulator(config);
    // `lan` goes through a counting proxy: its byte counters show what went on the wire.
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: site.tcpAddress('lan').port });
    lan = new Bus({ ...clientTcpBusConfig(config, site, 'lan'), port: proxy.port }, { logger: silentLogger });
    lan2 = new Bus(clientBusConfig(config, site, 'lan2'), { logger: silentLogger });
    lan.start();
    lan2.start();
  });
  afterEach(() => {
    for (const d of site.allDevices()) {
      Object.assign(d.faults, noFaults());
      d.writes.length = 0;
    }
  });
  afterAll(async () => {
    await lan?.close();
    await lan2?.close();
    await proxy?.close();
    await site?.close();
  });

  describe('poll', () => {
    it('exception 2 on a merged read: split and retried in the same poll, and never asked again', async () => {
      const inv = site.device('inv-1');
      inv.faults.strictGaps = true; // reading through the unused gaps 18..29 / 108..119 is refused
      const driver = driverFor(config, lan, 'inv-1');
      expect(driver.blocks()).toHaveLength(3); // coil 0+1, holding 100+21, input 0+35

      const first = lan.stats();
      expect(await driver.poll()).toEqual(servedValues(site, config.devices[0]!));
      const second = lan.stats();
      // 3 planned reads; 2 refused with exception 2 and each replaced by two reads: 7 requests.
      expect(second.requests - first.requests).toBe(7);
      expect(second.errors.exception - first.errors.exception).toBe(2);
      expect(driver.blocks()).toHaveLength(5);

      const bytesBefore = proxy.counters.bytesToTarget;
      expect(await driver.poll()).toEqual(servedValues(site, config.devices[0]!));
      const third = lan.stats();
      expect(third.requests - second.requests).toBe(5);
      expect(third.errors.exception).toBe(second.errors.exception); // the refused reads are not repeated
      expect(proxy.counters.bytesToTarget - bytesBefore).toBe(5 * 12); // five 12-byte read requests on the wire
      expect(driver.unreadablePoints()).toEqual([]);
    });

    it('a point the device refuses on its own is set aside; the others are read', async () => {
      site.device('inv-1').faults.exception = { code: 2, table: 'holding', from: 120, to: 120 };
      const driver = driverFor(config, lan, 'inv-1');
      const values = await driver.poll();
      expect(driver.unreadablePoints()).toEqual(['activePowerLimit']);
      const { activePowerLimit: _skipped, ...expected } = servedValues(site, config.devices[0]!);
      expect(values).toEqual(expected);
      const before = lan.stats();
      await driver.poll();
      expect(lan.stats().errors.exception).toBe(before.errors.exception);
    });

    it('a device without a read function (exception 1 for coils) keeps its other points, and is not asked again', async () => {
      site.device('inv-1').faults.exception = { code: 1, table: 'coil' };
      const driver = driverFor(config, lan, 'inv-1');
      const values = await driver.poll();
      expect(driver.unreadablePoints()).toEqual(['enabled']);
      const { enabled: _skipped, ...expected } = servedValues(site, config.devices[0]!);
      expect(values).toEqual(expected);
      const before = lan.stats();
      await driver.poll();
      expect(lan.stats().errors.exception).toBe(before.errors.exception);
    });

    it('any other failure fails the poll with that typed error, naming device, unit and address', async () => {
      site.device('inv-1').faults.exception = { code: 4, table: 'input' };
      const error = await driverFor(config, lan, 'inv-1').poll().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModbusExceptionError);
      expect(error).toMatchObject({ exceptionCode: 4, context: { bus: 'lan', device: 'inv-1', unit: 1, table: 'input', address: 0 } });
    });

    it('a dead device is backed off: after two failures its polls are skipped without bus traffic, until it answers again', async () => {
      site.device('inv-1').faults.noAnswer = true;
      const driver = driverFor(config, lan, 'inv-1', { backoff: { initialMs: 400, maxMs: 400 } });
      await expect(driver.poll()).rejects.toBeInstanceOf(TimeoutError);
      await expect(driver.poll()).rejects.toBeInstanceOf(TimeoutError);
      const before = lan.stats().requests;
      const skipped = await timed(() => driver.poll());
      expect(skipped.error).toBeInstanceOf(TimeoutError); // the last error, again
      expect(skipped.ms).toBeLessThan(50); // nothing waited for
      expect(lan.stats().requests).toBe(before);
      expect(driver.stats()).toMatchObject({ polls: 2, failedPolls: 2, skippedPolls: 1, consecutiveFailures: 2 });
      expect(driver.stats().backedOffUntilMs).not.toBeNull();

      site.device('inv-1').faults.noAnswer = false;
      await sleep(450); // backoff (at most 400 ms) over
      expect(await driver.poll()).toEqual(servedValues(site, config.devices[0]!));
      expect(driver.stats()).toMatchObject({ consecutiveFailures: 0, backedOffUntilMs: null });
    });

    it('a dead device holds its bus at most one timeout per poll; another bus does not notice at all', async () => {
      site.device('wt-2').faults.noAnswer = true;
      const dead = driverFor(config, lan, 'wt-2', { backoff: { initialMs: 60_000, maxMs: 60_000 } });
      const sameBus = driverFor(config, lan, 'inv-1');
      const otherBus = driverFor(config, lan2, 'inv-9');
      const cycles: { sameBusMs: number; otherBusMs: number }[] = [];
      for (let i = 0; i < 4; i++) {
        const deadPoll = dead.poll().catch((e: unknown) => e); // queued first: its request goes out first
        const [same, other] = await Promise.all([timed(() => sameBus.poll()), timed(() => otherBus.poll())]);
        expect(same.error).toBeUndefined();
        expect(other.error).toBeUndefined();
        expect(await deadPoll).toBeInstanceOf(TimeoutError);
        cycles.push({ sameBusMs: same.ms, otherBusMs: other.ms });
        if (i === 1) expect(dead.stats().backedOffUntilMs).not.toBeNull();
      }
      // Cycles 0 and 1: the healthy device on the same bus waits for the dead one's single timeout
      // (300 ms), not for one per block (the dead poll stops at its first timeout): bound 300 + 700.
      for (const c of cycles.slice(0, 2)) expect(c.sameBusMs).toBeLessThan(TIMEOUT_MS + 700);
      // Cycles 2 and 3: the dead device is backed off and sends nothing; no wait at all (< 1 timeout).
      for (const c of cycles.slice(2)) expect(c.sameBusMs).toBeLessThan(TIMEOUT_MS);
      // The other bus never waits for `lan`: far below its timeout (300 ms) in every cycle.
      for (const c of cycles) expect(c.otherBusMs).toBeLessThan(TIMEOUT_MS);
    });

    it('a bus that is down fails its devices at once and does not slow another bus', async () => {
      const down = new Bus({ ...clientTcpBusConfig(config, site, 'lan'), id: 'down', port: 1 }, { logger: silentLogger });
      down.start();
      try {
        const onDown = driverFor(config, down, 'inv-1');
        const other = driverFor(config, lan2, 'inv-9');
        const [a, b] = await Promise.all([timed(() => onDown.poll()), timed(() => other.poll())]);
        expect(a.error).toBeInstanceOf(TransportError);
        expect(b.error).toBeUndefined();
        expect(b.ms).toBeLessThan(TIMEOUT_MS);
        // Transport errors are the bus's, not the device's: no device backoff.
        expect(onDown.stats().consecutiveFailures).toBe(0);
      } finally {
        await down.close();
      }
    });
  });

  describe('write', () => {
    it('FC6, FC16 and FC5 with the scaled raw value, read back', async () => {
      const inv = driverFor(config, lan, 'inv-1');
      expect(await inv.write('activePowerLimit', 55.5, () => true)).toEqual({ readBack: 55.5 });
      expect(await inv.write('enabled', false, () => true)).toEqual({ readBack: false });
      const wt = driverFor(config, lan, 'wt-2');
      expect(await wt.write('curtailmentSetpoint', 1200, () => true)).toEqual({ readBack: 1200 });
      expect(site.device('inv-1').writes.map((w) => [w.fc, w.address, w.values])).toEqual([
        [6, 120, [555]],
        [5, 0, [0]],
      ]);
      expect(site.device('inv-1').value('activePowerLimit')).toBe(55.5);
      expect(site.device('inv-1').value('enabled')).toBe(false);
      expect(site.device('wt-2').writes.map((w) => [w.fc, w.address, w.values])).toEqual([[6, 30, [1200]]]);
    });

    it('a device without FC6 (exception 1) gets the write again as FC16, and FC16 from then on', async () => {
      const inv = site.device('inv-1');
      inv.faults.exception = { code: 1, fc: 6 };
      const driver = driverFor(config, lan, 'inv-1');
      expect(await driver.write('activePowerLimit', 40, () => true)).toEqual({ readBack: 40 });
      expect(await driver.write('activePowerLimit', 45, () => true)).toEqual({ readBack: 45 });
      expect(inv.writes.map((w) => [w.fc, w.values, w.outcome])).toEqual([
        [6, [400], 'exception'],
        [16, [400], 'applied'],
        [16, [450], 'applied'],
      ]);
    });

    it('multi-register values go out as one FC16', async () => {
      const io = driverFor(config, lan, 'wt-2');
      await expect(io.write('activePower', 70_000, () => true)).rejects.toBeInstanceOf(ReadBackMismatchError);
      expect(site.device('wt-2').writes.map((w) => [w.fc, w.address, w.values])).toEqual([[16, 4, [1, 70_000 - 65_536]]]);
    });

    it('read-back that differs: ReadBackMismatchError with what was written and what came back', async () => {
      const wt = driverFor(config, lan, 'wt-2');
      const error = await wt.write('activePower', 12_345, () => true).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReadBackMismatchError);
      expect(error).toMatchObject({
        code: 'READ_BACK_MISMATCH',
        point: 'activePower',
        expected: 12_345,
        actual: site.device('wt-2').value('activePower'),
        context: { bus: 'lan', device: 'wt-2', unit: 2, table: 'holding', address: 4 },
      });
      expect(site.device('wt-2').writes).toHaveLength(1); // it was sent; the device did not keep it
    });

    it('without verifyWrites nothing is read back', async () => {
      const wt = driverFor(config, lan, 'wt-2', { verifyWrites: false });
      expect(await wt.write('activePower', 12_345, () => true)).toEqual({ readBack: null });
    });

    it('guard false: GateClosedError, nothing sent; the guard is asked once, right before the write', async () => {
      const inv = driverFor(config, lan, 'inv-1');
      let asked = 0;
      const error = await inv
        .write('activePowerLimit', 40, () => {
          asked += 1;
          return false;
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GateClosedError);
      expect(error).toMatchObject({ code: 'GATE_CLOSED', point: 'activePowerLimit', context: { device: 'inv-1', unit: 1, fc: 6, address: 120 } });
      expect(asked).toBe(1);
      await sleep(50);
      expect(site.device('inv-1').writes).toEqual([]);
    });

    it('a value that does not fit: CodecError before anything is sent', async () => {
      const inv = driverFor(config, lan, 'inv-1');
      const io = driverFor(config, lan, 'io-3');
      const before = lan.stats().requests;
      await expect(inv.write('activePowerLimit', 101, () => true)).rejects.toMatchObject({ code: 'VALUE_OUT_OF_RANGE' }); // above max
      await expect(inv.write('activePowerLimit', 'high', () => true)).rejects.toMatchObject({ code: 'WRONG_TYPE' });
      await expect(inv.write('enabled', 3, () => true)).rejects.toBeInstanceOf(CodecError);
      await expect(inv.write('activePower', 1, () => true)).rejects.toMatchObject({ code: 'POINT_INVALID' }); // read-only
      await expect(inv.write('noSuchPoint', 1, () => true)).rejects.toMatchObject({ code: 'POINT_INVALID' });
      await expect(io.write('flagA', 'yes', () => true)).rejects.toBeInstanceOf(CodecError); // bit point: before its register read
      expect(lan.stats().requests).toBe(before);
      expect(site.device('inv-1').writes).toEqual([]);
      expect(site.device('io-3').writes).toEqual([]);
    });

    it('bit points: read-modify-write of their register with FC6', async () => {
      const io = driverFor(config, lan, 'io-3');
      await io.write('flagA', false, () => true);
      await io.write('flagD', false, () => true);
      expect(site.device('io-3').registers('holding', 2, 1)).toEqual([0]);
      expect(await io.write('flagD', true, () => true)).toEqual({ readBack: true });
      expect(await io.write('flagA', true, () => true)).toEqual({ readBack: true });
      expect(site.device('io-3').registers('holding', 2, 1)).toEqual([0b1001]);
      await io.write('flagD', false, () => true);
      expect(site.device('io-3').registers('holding', 2, 1)).toEqual([0b0001]);
      expect(site.device('io-3').writes.every((w) => w.fc === 6 && w.address === 2)).toBe(true);
    });

    it('a scale-factor point is read before its first write and applied', async () => {
      site.device('io-3').setValue('W_SF', 1); // 10 W steps
      const io = driverFor(config, lan, 'io-3');
      expect(await io.write('powerSetpoint', 1230, () => true)).toEqual({ readBack: 1230 });
      expect(site.device('io-3').writes.map((w) => w.values)).toEqual([[123]]);
      site.device('io-3').release('W_SF');
    });

    it('write-only points are written and not read back', async () => {
      const io = driverFor(config, lan, 'io-3');
      expect(await io.write('resetOnly', 1, () => true)).toEqual({ readBack: null });
      expect(site.device('io-3').writes.map((w) => [w.fc, w.address, w.values])).toEqual([[6, 3, [1]]]);
      expect(Object.keys(await io.poll())).not.toContain('resetOnly');
    });

    it('a write overtakes the polls waiting on its bus', async () => {
      site.device('wt-2').faults.delayMs = 15; // every exchange with wt-2 takes >= 15 ms
      // Six drivers of the same device: six polls whose reads queue up on the bus together.
      const pollers = Array.from({ length: 6 }, () => driverFor(config, lan, 'wt-2'));
      const polls = pollers.map((d) => d.poll());
      await sleep(5); // the first read is on the wire, five wait
      const queuedAtWrite = lan.stats().queueLength;
      const before = lan.stats().requests;
      let sentBeforeWrite = -1;
      await driverFor(config, lan, 'wt-2').write('curtailmentSetpoint', 900, () => {
        sentBeforeWrite = lan.stats().requests - before; // the guard runs right before the write goes out
        return true;
      });
      await Promise.all(polls);
      expect(queuedAtWrite).toBeGreaterThanOrEqual(4);
      // Only the read already on the wire went before the write, not the reads waiting in line.
      expect(sentBeforeWrite).toBeLessThanOrEqual(1);
    });
  });
});
