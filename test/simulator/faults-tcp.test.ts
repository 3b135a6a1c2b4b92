// Fault injection on the Modbus TCP server, per device, switched while running.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedSite, frozenOptions, noFaults } from '../../src/simulator/index.js';
import { RawTcpProbe, readPdu, siteConfig } from './support.js';

const site = new SimulatedSite(siteConfig(), frozenOptions());
const inv = site.device('inv-1');
let port = 0;
let probe: RawTcpProbe;
const INV = 1;
const WT = 2;
const LIMIT = readPdu(3, 120, 1); // inverter activePowerLimit: answers [3, 2, 0x03, 0xe8]

beforeAll(async () => {
  await site.start();
  port = site.tcpAddress('lan').port;
});
afterAll(() => site.close());
beforeEach(async () => {
  probe = await RawTcpProbe.connect(port);
});
afterEach(() => {
  probe.close();
  Object.assign(inv.faults, noFaults());
  inv.writes.length = 0;
});

describe('TCP faults', () => {
  it('noAnswer swallows requests (a write is recorded as ignored, not applied) until switched off', async () => {
    inv.faults.noAnswer = true;
    expect((await probe.request(INV, LIMIT, { timeoutMs: 300 })).kind).toBe('timeout');
    expect((await probe.request(INV, [6, 0, 120, 0, 10], { timeoutMs: 300 })).kind).toBe('timeout');
    expect(inv.value('activePowerLimit')).toBe(100);
    expect(inv.writes).toMatchObject([{ outcome: 'ignored', values: [10] }]);
    // Other units on the same bus are unaffected.
    expect((await probe.request(WT, readPdu(3, 30, 1))).kind).toBe('answer');
    inv.faults.noAnswer = false;
    const r = await probe.request(INV, LIMIT);
    expect(r.kind === 'answer' && [...r.pdu]).toEqual([3, 2, 0x03, 0xe8]);
  });

  it('delayMs answers late', async () => {
    inv.faults.delayMs = 400;
    const started = performance.now();
    const r = await probe.request(INV, LIMIT, { timeoutMs: 3000 });
    const tookMs = performance.now() - started;
    expect(r.kind).toBe('answer');
    expect(tookMs).toBeGreaterThanOrEqual(390); // timers may fire a hair early relative to performance.now()
    expect(tookMs).toBeLessThan(2500); // generous: a loaded 2-core machine
  });

  it('exception answers every request, or only those matching fc / table / address range', async () => {
    inv.faults.exception = { code: 4 };
    let r = await probe.request(INV, LIMIT);
    expect(r.kind === 'answer' && [...r.pdu]).toEqual([0x83, 4]);
    inv.faults.exception = { code: 6, fc: 3, table: 'holding', from: 120, to: 120 };
    r = await probe.request(INV, LIMIT);
    expect(r.kind === 'answer' && [...r.pdu]).toEqual([0x83, 6]);
    r = await probe.request(INV, readPdu(3, 100, 21)); // overlaps 120
    expect(r.kind === 'answer' && [...r.pdu]).toEqual([0x83, 6]);
    r = await probe.request(INV, readPdu(3, 100, 8)); // does not
    expect(r.kind === 'answer' && r.pdu[0]).toBe(3);
    r = await probe.request(INV, readPdu(4, 0, 2)); // other fc and table
    expect(r.kind === 'answer' && r.pdu[0]).toBe(4);
  });

  it('exception on writes: refused, recorded with the code, not applied', async () => {
    inv.faults.exception = { code: 4, fc: 6 };
    const r = await probe.request(INV, [6, 0, 120, 0, 10]);
    expect(r.kind === 'answer' && [...r.pdu]).toEqual([0x86, 4]);
    expect(inv.value('activePowerLimit')).toBe(100);
    expect(inv.writes).toMatchObject([{ outcome: 'exception', exceptionCode: 4 }]);
  });

  it('dropConnection closes the connection on a request to that unit only', async () => {
    inv.faults.dropConnection = true;
    const other = await RawTcpProbe.connect(port);
    try {
      expect((await probe.request(INV, LIMIT)).kind).toBe('closed');
      expect((await other.request(WT, readPdu(3, 30, 1))).kind).toBe('answer');
      inv.faults.dropConnection = false;
      const r = await other.request(INV, LIMIT);
      expect(r.kind).toBe('answer');
    } finally {
      other.close();
    }
  });

  it('corruptFrames sends garbage: the proper answer with every byte XOR 0xA5', async () => {
    inv.faults.corruptFrames = true;
    const r = await probe.request(INV, LIMIT, { transactionId: 0x0102, timeoutMs: 300 });
    expect(r.kind).toBe('garbage');
    expect([...r.raw].map((b) => b ^ 0xa5)).toEqual([0x01, 0x02, 0, 0, 0, 5, INV, 3, 2, 0x03, 0xe8]);
  });

  it('wrongTransactionId answers with the transaction id plus one', async () => {
    inv.faults.wrongTransactionId = true;
    const r = await probe.request(INV, LIMIT, { transactionId: 0xffff });
    expect(r.kind === 'answer' && r.transactionId).toBe(0);
    expect(r.kind === 'answer' && [...r.pdu]).toEqual([3, 2, 0x03, 0xe8]);
  });
});
