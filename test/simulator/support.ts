// Shared pieces of the simulator tests: configs built through the real config loader, and a raw
// Modbus TCP probe that sends exact bytes and reports exactly what comes back (or that nothing did).
import { createRequire } from 'node:module';
import net from 'node:net';
import type { ModbusRTU as ModbusRTUClass } from 'modbus-serial/ModbusRTU.js';
import { afterAll, beforeAll } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { PointConfig, SiteConfig, Table } from '../../src/config/types.js';
import { pointWidth } from '../../src/config/point-width.js';
import type { SimulatedSite } from '../../src/simulator/index.js';

/** A site with one device per built-in profile on one TCP bus, plus a meter without a profile. */
export const PROFILES_YAML = `
site: sim-test
agent: { id: sim-test }
zookeeper: { connect: "127.0.0.1:2181" }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: 1502 }
devices:
  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter }
  - { id: wt-1, kind: turbine, bus: lan, unitId: 2, profile: generic-turbine }
  - { id: bms-1, kind: bms, bus: lan, unitId: 3, profile: generic-bms }
  - id: meter-1
    kind: meter
    bus: lan
    unitId: 4
    points:
      - { name: power, table: input, address: 0, type: int32, unit: W }
      - { name: voltage, table: input, address: 2, type: uint16, scale: 0.1, unit: V }
      - { name: importEnergy, table: input, address: 10, type: uint64, wordOrder: little, unit: Wh }
      - { name: label, table: holding, address: 0, type: string, length: 4, access: readwrite }
      - { name: ctRatio, table: holding, address: 4, type: uint16, access: readwrite, min: 1, max: 1000 }
      - { name: relay, table: coil, address: 5, type: bool, access: readwrite }
`;

/** Parses `yaml` with the real loader, then moves every TCP bus to port 0 (the kernel picks a free one). */
export function siteConfig(yaml: string = PROFILES_YAML): SiteConfig {
  const config = parseConfig(yaml, 'sim-test.yaml');
  for (const bus of config.buses) if (bus.type === 'tcp') bus.port = 0;
  return config;
}

/**
 * A device's points of one table as read blocks: points closer than `maxGap` unused addresses share a
 * block (as the read planner bridges gaps), each block at most `max` entries long.
 */
export function pointBlocks(points: readonly PointConfig[], table: Table, opts: { maxGap?: number; max?: number } = {}): { address: number; count: number }[] {
  const maxGap = opts.maxGap ?? 0;
  const max = opts.max ?? 120;
  const ranges = points
    .filter((p) => p.table === table)
    .map((p) => ({ from: p.address, to: p.address + pointWidth(p) - 1 }))
    .sort((a, b) => a.from - b.from);
  const blocks: { address: number; count: number }[] = [];
  for (const r of ranges) {
    const last = blocks[blocks.length - 1];
    if (last !== undefined && r.from <= last.address + last.count + maxGap && r.to - last.address + 1 <= max) {
      last.count = Math.max(last.count, r.to - last.address + 1);
    } else {
      blocks.push({ address: r.from, count: r.to - r.from + 1 });
    }
  }
  return blocks;
}

export type ProbeResult =
  | { kind: 'answer'; transactionId: number; protocolId: number; unitId: number; pdu: Buffer; raw: Buffer }
  | { kind: 'garbage'; raw: Buffer }
  | { kind: 'timeout'; raw: Buffer }
  | { kind: 'closed'; raw: Buffer };

/** One TCP connection sending raw MBAP frames; not a Modbus library, so it sees the wire as it is. */
export class RawTcpProbe {
  private received = Buffer.alloc(0);
  private closed = false;
  private waiter: (() => void) | undefined;
  private nextTid = 1;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.waiter?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawTcpProbe> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => {
        socket.off('error', reject);
        resolve(new RawTcpProbe(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Sends `pdu` to `unitId` and waits up to `timeoutMs` for one complete answer frame. */
  async request(unitId: number, pdu: number[], opts: { timeoutMs?: number; transactionId?: number } = {}): Promise<ProbeResult> {
    const tid = opts.transactionId ?? this.nextTid++ & 0xffff;
    const frame = Buffer.alloc(7 + pdu.length);
    frame.writeUInt16BE(tid, 0);
    frame.writeUInt16BE(0, 2);
    frame.writeUInt16BE(pdu.length + 1, 4);
    frame[6] = unitId;
    Buffer.from(pdu).copy(frame, 7);
    this.received = Buffer.alloc(0);
    this.socket.write(frame);
    return this.awaitFrame(opts.timeoutMs ?? 1000);
  }

  /** Sends bytes as they are (malformed frames). */
  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async awaitFrame(timeoutMs: number): Promise<ProbeResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = this.received;
      if (r.length >= 7) {
        const length = r.readUInt16BE(4);
        if (r.readUInt16BE(2) !== 0 || length < 2 || length > 254) return { kind: 'garbage', raw: r };
        if (r.length >= 6 + length) {
          return { kind: 'answer', transactionId: r.readUInt16BE(0), protocolId: 0, unitId: r[6] ?? 0, pdu: r.subarray(7, 6 + length), raw: r };
        }
      }
      if (this.closed) return { kind: 'closed', raw: r };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout', raw: r };
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** PDU of a read request: FC, address, count. */
export function readPdu(fc: 1 | 2 | 3 | 4, address: number, count: number): number[] {
  return [fc, address >> 8, address & 0xff, count >> 8, count & 0xff];
}

/** PDU of FC 16: write multiple registers. */
export function writeRegistersPdu(address: number, values: number[]): number[] {
  const out = [16, address >> 8, address & 0xff, values.length >> 8, values.length & 0xff, values.length * 2];
  for (const v of values) out.push(v >> 8, v & 0xff);
  return out;
}

/**
 * modbus-serial's client class, the independent Modbus client of these tests. The package is
 * CommonJS (`module.exports = ModbusRTU`), which its typings declare as `export default`: under
 * NodeNext TypeScript then types the default import as the module object, so load it with require.
 */
export const ModbusClient: typeof ModbusRTUClass = createRequire(import.meta.url)('modbus-serial');
export type ModbusClient = ModbusRTUClass;

/**
 * Serves `site` for the tests of the file (or describe block) that calls this, with `client`
 * connected to its TCP bus `lan` (2 s timeout); both closed after them.
 */
export function serveForTests(site: SimulatedSite, client: ModbusClient): void {
  beforeAll(async () => {
    await site.start();
    await client.connectTCP('127.0.0.1', { port: site.tcpAddress('lan').port });
    client.setTimeout(2000);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await site.close();
  });
}
