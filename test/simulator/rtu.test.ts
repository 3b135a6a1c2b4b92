// The Modbus RTU slave on a real pseudo-terminal pair from socat: two units on one line, read back
// with modbus-serial, then the wire byte by byte: framing, resynchronisation, broadcast, faults.
import { SerialPort } from 'serialport';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SiteConfig } from '../../src/config/types.js';
import { hasValidCrc, withCrc } from '../../src/drivers/modbus/crc16.js';
import { SimulatedSite, frozenOptions, noFaults } from '../../src/simulator/index.js';
import { openPtyPair, type PtyPair } from '../../tools/devtools/socat.js';
import { ModbusClient, readPdu, siteConfig } from './support.js';

function rtuYaml(path: string): string {
  return `
site: sim-rtu
agent: { id: sim-rtu }
zookeeper: { connect: "127.0.0.1:2181" }
buses:
  - { id: rs485, type: rtu, path: "${path}", baudRate: 19200, parity: even }
devices:
  - { id: inv-1, kind: inverter, bus: rs485, unitId: 1, profile: generic-inverter }
  - { id: bms-7, kind: bms, bus: rs485, unitId: 7, profile: generic-bms }
`;
}

/** The master's end of the line, unframed: sends bytes, collects whatever comes back. */
class RawRtuProbe {
  private received = Buffer.alloc(0);
  constructor(private readonly port: SerialPort) {
    port.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
  }

  static open(path: string): Promise<RawRtuProbe> {
    const port = new SerialPort({ path, baudRate: 19200, parity: 'even', autoOpen: false });
    return new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve(new RawRtuProbe(port)))));
  }

  /** Writes `bytes` (append a CRC with withCrc first for a proper frame); returns the answer frame or null. */
  async exchange(bytes: Buffer, timeoutMs = 1000): Promise<Buffer | null> {
    this.received = Buffer.alloc(0);
    this.port.write(bytes);
    return this.awaitAnswer(timeoutMs);
  }

  async awaitAnswer(timeoutMs: number): Promise<Buffer | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const length = answerLength(this.received);
      if (length !== undefined && this.received.length >= length) return this.received.subarray(0, length);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.received.length === 0 ? null : this.received;
  }

  write(bytes: Buffer): void {
    this.port.write(bytes);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

/** Length of an answer frame from its first bytes (unit, fc, byte count), CRC included. */
function answerLength(b: Buffer): number | undefined {
  const fc = b[1];
  if (fc === undefined) return undefined;
  if (fc & 0x80) return 5;
  if (fc >= 1 && fc <= 4) return b[2] === undefined ? undefined : 5 + b[2];
  return 8;
}

const frame = (unit: number, pdu: number[]): Buffer => withCrc(Buffer.from([unit, ...pdu]));

let pair: PtyPair;
let config: SiteConfig;
let site: SimulatedSite;

beforeAll(async () => {
  pair = await openPtyPair();
  config = siteConfig(rtuYaml(pair.a));
  site = new SimulatedSite(config, frozenOptions());
  await site.start();
});
afterAll(async () => {
  await site?.close();
  await pair?.close();
});

describe('two units on one RTU line, read with modbus-serial', () => {
  it('each unit answers with its own registers', async () => {
    const client = new ModbusClient();
    try {
      await client.connectRTUBuffered(pair.b, { baudRate: 19200, parity: 'even' });
      client.setTimeout(2000);
      client.setID(1);
      const serial = (await client.readHoldingRegisters(100, 8)).data;
      expect(serial).toEqual(site.device('inv-1').pointRegisters('serialNumber'));
      client.setID(7);
      const pack = (await client.readInputRegisters(0, 14)).data;
      expect(pack).toEqual(site.device('bms-7').registers('input', 0, 14));
      expect(site.device('bms-7').value('stateOfCharge')).toBe(55);
      expect(pack[0]).toBe(550);
      const limits = (await client.readHoldingRegisters(100, 4)).data;
      expect(limits).toEqual([0x42c8, 0, 0x42c8, 0]); // 100.0 A as float32 ABCD, twice
    } finally {
      await new Promise<void>((resolve) => client.close(() => resolve()));
    }
  });
});

describe('the RTU wire', () => {
  let probe: RawRtuProbe;
  beforeAll(async () => {
    probe = await RawRtuProbe.open(pair.b);
  });
  afterAll(() => probe.close());
  afterEach(() => {
    for (const d of site.allDevices()) {
      Object.assign(d.faults, noFaults());
      d.writes.length = 0;
    }
  });

  const LIMIT = frame(1, readPdu(3, 120, 1));
  const LIMIT_ANSWER = [...frame(1, [3, 2, 0x03, 0xe8])];

  it('answers a request with a valid CRC', async () => {
    expect([...((await probe.exchange(LIMIT)) ?? [])]).toEqual(LIMIT_ANSWER);
  });

  it('ignores units it does not have, and frames with a bad CRC', async () => {
    expect(await probe.exchange(frame(3, readPdu(3, 120, 1)), 300)).toBeNull();
    const bad = Buffer.from(LIMIT);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 0x01;
    expect(await probe.exchange(bad, 300)).toBeNull();
    expect([...((await probe.exchange(LIMIT)) ?? [])]).toEqual(LIMIT_ANSWER);
  });

  it('resynchronises after line noise in front of a request', async () => {
    const noisy = Buffer.concat([Buffer.from([0x00, 0x13, 0x37, 0xff]), LIMIT]);
    expect([...((await probe.exchange(noisy)) ?? [])]).toEqual(LIMIT_ANSWER);
  });

  it('frames by length: a request arriving in two pieces is one request', async () => {
    probe.write(LIMIT.subarray(0, 3));
    await new Promise((r) => setTimeout(r, 5)); // shorter than the 20 ms silence that ends a broken frame
    expect([...((await probe.exchange(LIMIT.subarray(3))) ?? [])]).toEqual(LIMIT_ANSWER);
  });

  it('answers a function code of unknown length with exception 1, after the line goes quiet', async () => {
    expect([...((await probe.exchange(frame(1, [17]))) ?? [])]).toEqual([...frame(1, [0x91, 1])]);
  });

  it('broadcast (unit 0): every device takes the write, nobody answers', async () => {
    expect(await probe.exchange(frame(0, [6, 0, 120, 0x02, 0x58]), 300)).toBeNull(); // 60.0 %
    const inv = site.device('inv-1');
    expect(inv.value('activePowerLimit')).toBe(60);
    expect(inv.writes).toMatchObject([{ unitId: 0, fc: 6, address: 120, values: [600], peer: pair.a, outcome: 'applied' }]);
    // bms-7 has no point at holding 120: refused silently (a broadcast is never answered).
    expect(site.device('bms-7').writes).toMatchObject([{ unitId: 0, outcome: 'exception', exceptionCode: 2 }]);
    await probe.exchange(frame(1, [6, 0, 120, 0x03, 0xe8]));
  });

  it('records unicast writes with the serial path as peer', async () => {
    const answer = await probe.exchange(frame(7, [16, 0, 100, 0, 2, 4, 0x42, 0x48, 0, 0])); // 50.0 A
    expect([...(answer ?? [])]).toEqual([...frame(7, [16, 0, 100, 0, 2])]);
    expect(site.device('bms-7').value('chargeCurrentLimit')).toBe(50);
    expect(site.device('bms-7').writes).toMatchObject([{ unitId: 7, table: 'holding', address: 100, peer: pair.a, outcome: 'applied' }]);
  });

  it('fault noAnswer: silence', async () => {
    site.device('inv-1').faults.noAnswer = true;
    expect(await probe.exchange(LIMIT, 300)).toBeNull();
  });

  it('fault delayMs: a late answer', async () => {
    site.device('inv-1').faults.delayMs = 300;
    const started = performance.now();
    expect([...((await probe.exchange(LIMIT, 3000)) ?? [])]).toEqual(LIMIT_ANSWER);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290); // timer granularity
  });

  it('fault exception: the exception frame', async () => {
    site.device('inv-1').faults.exception = { code: 6, fc: 3 };
    expect([...((await probe.exchange(LIMIT)) ?? [])]).toEqual([...frame(1, [0x83, 6])]);
    // The other unit on the line is not affected.
    expect((await probe.exchange(frame(7, readPdu(3, 100, 2))))?.[1]).toBe(3);
  });

  it('fault corruptFrames: the answer with a CRC byte flipped', async () => {
    site.device('inv-1').faults.corruptFrames = true;
    const answer = (await probe.exchange(LIMIT)) ?? Buffer.alloc(0);
    expect(answer.length).toBe(LIMIT_ANSWER.length);
    expect(hasValidCrc(answer)).toBe(false);
    const repaired = Buffer.from(answer);
    repaired[repaired.length - 1] = (repaired[repaired.length - 1] ?? 0) ^ 0xff;
    expect([...repaired]).toEqual(LIMIT_ANSWER);
  });
});
