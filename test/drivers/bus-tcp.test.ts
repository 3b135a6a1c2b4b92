// A Modbus TCP bus against the simulator over real sockets on 127.0.0.1: one connection for all
// units, the unit id passed per request, every fault the simulator can show, reconnects, queue
// priority and the gate. Timing bounds are generous (2 shared cores): they separate "waited for a
// timeout" from "did not", not milliseconds.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SiteConfig } from '../../src/config/types.js';
import { Bus } from '../../src/drivers/modbus/bus.js';
import { BadResponseError, GateClosedError, ModbusExceptionError, TimeoutError, TransportError } from '../../src/drivers/errors.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { clientBusConfig, clientTcpBusConfig, silentLogger, startSimulator, testConfig, timed, watchUnhandledRejections } from './bus-fixtures.js';

const TIMEOUT_MS = 300;

const YAML = `
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: 1502, timeoutMs: ${TIMEOUT_MS} }
devices:
  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter }
  - id: meter-2
    kind: meter
    bus: lan
    unitId: 2
    points:
      - { name: power, table: input, address: 0, type: int32, unit: W }
      - { name: label, table: holding, address: 100, type: string, length: 4, access: readwrite }
      - { name: ctRatio, table: holding, address: 120, type: uint16, access: readwrite, min: 1, max: 1000 }
      - { name: relay, table: coil, address: 0, type: bool, access: readwrite }
`;

const unhandled = watchUnhandledRejections();
afterAll(() => {
  expect(unhandled.stop()).toEqual([]);
});

describe('TCP bus against the simulator', () => {
  let config: SiteConfig;
  let site: SimulatedSite;
  let bus: Bus;

  beforeEach(async () => {
    config = testConfig(YAML);
    site = await startSimulator(config);
    bus = new Bus(clientBusConfig(config, site, 'lan'), { logger: silentLogger });
    bus.start();
  });
  afterEach(async () => {
    await bus.close();
    await site.close();
  });

  it('reads every table with the unit id of each request', async () => {
    const inv = bus.unit(1, 'inv-1');
    const meter = bus.unit(2, 'meter-2');
    // Both units at once on the one connection; each gets its own device's registers.
    const [invInput, meterInput, invHolding, meterHolding, invCoil, meterCoil] = await Promise.all([
      inv.read('input', 0, 18),
      meter.read('input', 0, 2),
      inv.read('holding', 100, 8),
      meter.read('holding', 100, 4),
      inv.read('coil', 0, 1),
      meter.read('coil', 0, 1),
    ]);
    expect(invInput).toEqual(site.device('inv-1').registers('input', 0, 18));
    expect(meterInput).toEqual(site.device('meter-2').registers('input', 0, 2));
    expect(invHolding).toEqual(site.device('inv-1').registers('holding', 100, 8));
    expect(meterHolding).toEqual(site.device('meter-2').registers('holding', 100, 4));
    expect(invCoil).toEqual(site.device('inv-1').registers('coil', 0, 1));
    expect(meterCoil).toEqual(site.device('meter-2').registers('coil', 0, 1));
    expect(bus.stats()).toMatchObject({ state: 'connected', requests: 6, connects: 1, errors: { timeout: 0, exception: 0, transport: 0, bad_response: 0 } });
  });

  it('writes with FC6 for one register, FC16 for more, FC5 for a coil', async () => {
    const meter = bus.unit(2, 'meter-2');
    await meter.writeRegisters(120, [42]);
    await meter.writeRegisters(100, [0x4142, 0x4344, 0, 0]);
    await meter.writeCoil(0, true);
    const writes = site.device('meter-2').writes.map((w) => ({ fc: w.fc, table: w.table, address: w.address, values: w.values, outcome: w.outcome }));
    expect(writes).toEqual([
      { fc: 6, table: 'holding', address: 120, values: [42], outcome: 'applied' },
      { fc: 16, table: 'holding', address: 100, values: [0x4142, 0x4344, 0, 0], outcome: 'applied' },
      { fc: 5, table: 'coil', address: 0, values: [1], outcome: 'applied' },
    ]);
    expect(site.device('meter-2').value('ctRatio')).toBe(42);
    expect(site.device('meter-2').value('label')).toBe('ABCD');
    expect(site.device('meter-2').value('relay')).toBe(true);
  });

  it('no answer: TimeoutError after timeoutMs naming bus, device, unit, table and address; other units go on', async () => {
    site.device('inv-1').faults.noAnswer = true;
    const { ms, error } = await timed(() => bus.unit(1, 'inv-1').read('holding', 120, 1));
    expect(error).toBeInstanceOf(TimeoutError);
    const err = error as TimeoutError;
    expect(err.code).toBe('TIMEOUT');
    expect(err.retryable).toBe(true);
    expect(err.context).toMatchObject({ bus: 'lan', device: 'inv-1', unit: 1, fc: 3, table: 'holding', address: 120, count: 1 });
    expect(err.message).toContain('bus=lan device=inv-1 unit=1 fc=3 table=holding address=120');
    // It waited for the timeout (timers fire no earlier), and not much longer (2 busy cores: +700 ms).
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(ms).toBeLessThan(TIMEOUT_MS + 700);
    expect(await bus.unit(2, 'meter-2').read('holding', 120, 1)).toEqual(site.device('meter-2').registers('holding', 120, 1));
    expect(bus.stats().errors.timeout).toBe(1);
  });

  it('exception: ModbusExceptionError with the exception code', async () => {
    site.device('inv-1').faults.exception = { code: 4, table: 'holding' };
    const error = await bus.unit(1, 'inv-1').read('holding', 120, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModbusExceptionError);
    expect(error).toMatchObject({ code: 'MODBUS_EXCEPTION', exceptionCode: 4, retryable: false, context: { unit: 1, address: 120 } });
    // A retryable one (6, busy) says so.
    site.device('inv-1').faults.exception = { code: 6 };
    await expect(bus.unit(1).read('input', 0, 1)).rejects.toMatchObject({ exceptionCode: 6, retryable: true });
    site.device('inv-1').faults.exception = null;
    await expect(bus.unit(1).read('holding', 120, 1)).resolves.toHaveLength(1);
    expect(bus.stats().errors.exception).toBe(2);
  });

  it('dropped connection: TransportError, then the bus reconnects and the next request works', async () => {
    const inv = bus.unit(1, 'inv-1');
    await inv.read('holding', 120, 1); // the connection has worked
    site.device('inv-1').faults.dropConnection = true;
    const error = await inv.read('holding', 120, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'CONNECTION_CLOSED', retryable: true, context: { bus: 'lan', device: 'inv-1', unit: 1 } });
    site.device('inv-1').faults.dropConnection = false;
    // A connection that had worked is re-opened at once: the next request waits for it, not fails.
    expect(await inv.read('holding', 120, 1)).toEqual(site.device('inv-1').registers('holding', 120, 1));
    expect(bus.stats().connects).toBe(2);
  });

  it('garbage answer: BadResponseError, the connection is renewed, the next request works', async () => {
    const inv = bus.unit(1, 'inv-1');
    await inv.read('input', 0, 2);
    site.device('inv-1').faults.corruptFrames = true; // every answer byte XOR 0xA5: no valid MBAP header
    const error = await inv.read('input', 0, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadResponseError);
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', context: { unit: 1, table: 'input', address: 0 } });
    site.device('inv-1').faults.corruptFrames = false;
    expect(await inv.read('input', 0, 2)).toEqual(site.device('inv-1').registers('input', 0, 2));
    expect(bus.stats().errors.bad_response).toBe(1);
  });

  it('wrong transaction id: BadResponseError at once, the next request works on the same connection', async () => {
    const inv = bus.unit(1, 'inv-1');
    await inv.read('input', 0, 2);
    site.device('inv-1').faults.wrongTransactionId = true;
    const { ms, error } = await timed(() => inv.read('input', 0, 2));
    expect(error).toBeInstanceOf(BadResponseError);
    expect((error as BadResponseError).message).toMatch(/transaction id \d+, expected \d+/);
    expect(ms).toBeLessThan(TIMEOUT_MS); // recognised on arrival, not by waiting for the timeout
    site.device('inv-1').faults.wrongTransactionId = false;
    expect(await inv.read('input', 0, 2)).toEqual(site.device('inv-1').registers('input', 0, 2));
    expect(bus.stats().connects).toBe(1);
  });

  it('a late answer to a timed-out request is never taken as the answer to the next one', async () => {
    const meter = bus.unit(2, 'meter-2');
    const device = site.device('meter-2');
    device.setValue('ctRatio', 111);
    device.faults.delayMs = TIMEOUT_MS + 150; // answer of A arrives 150 ms after A timed out
    await expect(meter.read('holding', 120, 1)).rejects.toBeInstanceOf(TimeoutError); // A
    device.setValue('ctRatio', 222);
    device.faults.delayMs = TIMEOUT_MS - 50; // B is still waiting when A's late answer [111] arrives
    expect(await meter.read('holding', 120, 1)).toEqual([222]); // B
  });

  it('the peer vanishing mid-request: TransportError, no crash', async () => {
    site.device('inv-1').faults.delayMs = 200;
    const pending = bus.unit(1, 'inv-1').read('holding', 120, 1).catch((e: unknown) => e);
    await sleep(50);
    await site.close();
    expect(await pending).toBeInstanceOf(TransportError);
  });

  it('guard false: GateClosedError and nothing sent; the guard runs once, in the queue', async () => {
    const meter = bus.unit(2, 'meter-2');
    let calls = 0;
    const error = await meter
      .writeRegisters(120, [7], {
        point: 'ctRatio',
        guard: () => {
          calls += 1;
          return false;
        },
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateClosedError);
    expect(error).toMatchObject({ code: 'GATE_CLOSED', point: 'ctRatio', context: { unit: 2, fc: 6, address: 120 } });
    expect(calls).toBe(1);
    await sleep(50);
    expect(site.device('meter-2').writes).toEqual([]);
    await meter.writeRegisters(120, [7], { guard: () => true });
    expect(site.device('meter-2').writes.map((w) => w.values)).toEqual([[7]]);
  });

  it('writes go ahead of waiting reads', async () => {
    site.device('inv-1').faults.delayMs = 10; // each exchange takes >= 10 ms, so the line of reads is real
    const inv = bus.unit(1, 'inv-1');
    const meter = bus.unit(2, 'meter-2');
    const reads = Array.from({ length: 15 }, () => inv.read('input', 0, 1));
    let sentBeforeWrite = -1;
    await meter.writeRegisters(120, [9], {
      guard: () => {
        sentBeforeWrite = bus.stats().requests; // right before the write goes out
        return true;
      },
    });
    await Promise.all(reads);
    // At most the read already on the wire went before the write.
    expect(sentBeforeWrite).toBeLessThanOrEqual(1);
  });

  it('refuses a request the protocol cannot carry before it queues', async () => {
    await expect(bus.unit(1).read('holding', 0, 126)).rejects.toBeInstanceOf(RangeError);
    await expect(bus.unit(1).writeRegisters(65535, [1, 2])).rejects.toBeInstanceOf(RangeError);
    expect(bus.stats().requests).toBe(0);
  });

  it('keeps pauseMs of silence between requests', async () => {
    await bus.close();
    bus = new Bus({ ...clientBusConfig(config, site, 'lan'), pauseMs: 60 }, { logger: silentLogger });
    bus.start();
    const inv = bus.unit(1);
    await inv.read('input', 0, 1);
    const { ms } = await timed(() => Promise.all(Array.from({ length: 5 }, () => inv.read('input', 0, 1))));
    expect(ms).toBeGreaterThanOrEqual(5 * 60 - 5); // five pauses, each after the previous exchange
  });
});

describe('TCP bus: one connection, dead server, reconnect', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('all devices of a bus share one TCP connection', async () => {
    const config = testConfig(YAML);
    const site = await startSimulator(config);
    cleanup.push(() => site.close());
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: site.tcpAddress('lan').port });
    cleanup.push(() => proxy.close());
    const bus = new Bus({ ...clientTcpBusConfig(config, site, 'lan'), port: proxy.port }, { logger: silentLogger });
    cleanup.push(() => bus.close());
    bus.start();
    await Promise.all([1, 2, 1, 2, 1, 2].map((unit) => bus.unit(unit).read('coil', 0, 1)));
    expect(proxy.counters.accepted).toBe(1);
  });

  it('while the server is down requests fail fast; the bus backs off and reconnects when it is back', async () => {
    const config = testConfig(YAML);
    let site = await startSimulator(config);
    const port = site.tcpAddress('lan').port;
    cleanup.push(() => site.close());
    const bus = new Bus(clientBusConfig(config, site, 'lan'), { logger: silentLogger, reconnect: { initialMs: 100, maxMs: 400 } });
    cleanup.push(() => bus.close());
    bus.start();
    const inv = bus.unit(1, 'inv-1');
    await inv.read('input', 0, 1);

    await site.close();
    await waitFor('the bus to notice the server is gone', () => bus.state === 'backoff', { timeoutMs: 5000, intervalMs: 10 });
    const down = await timed(() => inv.read('input', 0, 1));
    expect(down.error).toBeInstanceOf(TransportError);
    expect(down.error).toMatchObject({ code: 'PORT_NOT_OPEN', context: { bus: 'lan', device: 'inv-1', unit: 1 } });
    expect(down.ms).toBeLessThan(100); // fails at once, no timeout waited
    // Ten requests while down: none waits (the queue never hangs on a dead bus).
    const many = await timed(() => Promise.allSettled(Array.from({ length: 10 }, () => inv.read('input', 0, 1))));
    expect(many.ms).toBeLessThan(200);

    // Refused connects back off (100, 200, 400, 400 ms ...); the server comes back on the same port.
    await sleep(500);
    site = new SimulatedSite(config, frozenOptions());
    for (const b of config.buses) if (b.type === 'tcp') b.port = port;
    await site.start();
    await waitFor('the bus to reconnect', () => bus.state === 'connected', { timeoutMs: 5000, intervalMs: 20 });
    expect(await inv.read('input', 0, 1)).toEqual(site.device('inv-1').registers('input', 0, 1));
    expect(bus.stats().connects).toBe(2);
  });

  it('a bus pointing at nothing fails every request quickly and never blocks', async () => {
    const config = testConfig(YAML);
    const site = await startSimulator(config);
    const busConfig = clientTcpBusConfig(config, site, 'lan');
    await site.close(); // nothing listens there any more
    const bus = new Bus(busConfig, { logger: silentLogger });
    cleanup.push(() => bus.close());
    bus.start();
    const first = await timed(() => bus.unit(1).read('input', 0, 1));
    expect(first.error).toBeInstanceOf(TransportError);
    expect(first.ms).toBeLessThan(TIMEOUT_MS + 700); // at most one connect wait
    const second = await timed(() => bus.unit(1).read('input', 0, 1));
    expect(second.error).toBeInstanceOf(TransportError);
    expect((second.error as TransportError).message).toContain('ECONNREFUSED');
    expect(second.ms).toBeLessThan(100);
  });

  it('close() fails waiting requests with TransportError and refuses new ones', async () => {
    const config = testConfig(YAML);
    const site = await startSimulator(config);
    cleanup.push(() => site.close());
    site.device('inv-1').faults.delayMs = 50;
    const bus = new Bus(clientBusConfig(config, site, 'lan'), { logger: silentLogger });
    bus.start();
    const inv = bus.unit(1);
    const results = Array.from({ length: 5 }, () => inv.read('input', 0, 1).then(() => 'ok', (e: unknown) => e));
    await sleep(20);
    await bus.close();
    const settled = await Promise.all(results);
    expect(settled[0]).toBe('ok'); // the one on the wire finished
    for (const r of settled.slice(1)) expect(r).toBeInstanceOf(TransportError);
    await expect(inv.read('input', 0, 1)).rejects.toMatchObject({ code: 'PORT_NOT_OPEN' });
    expect(bus.state).toBe('closed');
  });
});
