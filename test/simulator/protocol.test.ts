// The Modbus TCP server side byte by byte, with a raw socket (no Modbus library in between): framing,
// function codes, exception responses like strict real hardware, writes and their records.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { RawTcpProbe, readPdu, siteConfig, writeRegistersPdu, type ProbeResult } from './support.js';

const site = new SimulatedSite(siteConfig(), frozenOptions());
let port = 0;
let probe: RawTcpProbe;

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
  for (const d of site.allDevices()) {
    Object.assign(d.faults, { strictGaps: false, lenient: false, exception: null });
    d.writes.length = 0;
  }
});

function pdu(result: ProbeResult): number[] {
  if (result.kind !== 'answer') throw new Error(`expected an answer, got ${result.kind} (${result.raw.toString('hex')})`);
  return [...result.pdu];
}

const INV = 1; // inv-1: holding 100..107 serialNumber, 120 activePowerLimit; coil 0 enabled; input 0..17, 30..34
const WT = 2; // wt-1: input 0..1, holding 0..7 and 20..23 and 30, coil 0
const METER = 4;

describe('framing', () => {
  it('echoes the transaction id and unit id', async () => {
    const r = await probe.request(INV, readPdu(3, 120, 1), { transactionId: 0xbeef });
    expect(r.kind).toBe('answer');
    if (r.kind !== 'answer') return;
    expect(r.transactionId).toBe(0xbeef);
    expect(r.unitId).toBe(INV);
    expect([...r.pdu]).toEqual([3, 2, 0x03, 0xe8]); // 100.0 % in 0.1 % steps = 1000
  });

  it('answers two requests sent in one segment, in order', async () => {
    const frame = (tid: number, p: number[]): Buffer => Buffer.from([tid >> 8, tid & 0xff, 0, 0, 0, p.length + 1, INV, ...p]);
    probe.writeRaw(Buffer.concat([frame(7, readPdu(3, 120, 1)), frame(8, readPdu(1, 0, 1))]));
    await new Promise((r) => setTimeout(r, 200)); // both answers arrive well within 200 ms on loopback
    const r = await probe.awaitFrame(0);
    if (r.kind !== 'answer') throw new Error(r.kind);
    expect(r.raw.length).toBe(11 + 10); // MBAP 7 + PDU 4 (FC3, one register), MBAP 7 + PDU 3 (FC1, one byte)
    expect(r.raw.readUInt16BE(0)).toBe(7);
    expect(r.raw.readUInt16BE(11)).toBe(8);
    expect([...r.raw.subarray(18)]).toEqual([1, 1, 1]); // enabled = true
  });

  it('ignores a frame whose protocol id is not 0, and keeps the connection', async () => {
    probe.writeRaw(Buffer.from([0, 1, 0x12, 0x34, 0, 6, INV, ...readPdu(3, 120, 1)]));
    expect((await probe.awaitFrame(300)).kind).toBe('timeout');
    expect(pdu(await probe.request(INV, readPdu(3, 120, 1)))).toEqual([3, 2, 0x03, 0xe8]);
  });

  it('closes the connection on an impossible MBAP length', async () => {
    probe.writeRaw(Buffer.from([0, 1, 0, 0, 0, 0, INV]));
    expect((await probe.awaitFrame(1000)).kind).toBe('closed');
  });

  it('answers an unknown unit id with exception 11 (gateway target failed to respond)', async () => {
    const r = await probe.request(99, readPdu(3, 0, 1));
    expect(r.kind === 'answer' && r.unitId).toBe(99);
    expect(pdu(r)).toEqual([0x83, 11]);
  });
});

describe('exceptions', () => {
  it('1 for a function code it does not implement', async () => {
    expect(pdu(await probe.request(INV, [8, 0, 0, 0x12, 0x34]))).toEqual([0x88, 1]);
    expect(pdu(await probe.request(INV, [43, 14, 1, 0]))).toEqual([0xab, 1]);
  });

  it('3 for a quantity of 0 or beyond 125 registers / 2000 bits', async () => {
    expect(pdu(await probe.request(INV, readPdu(3, 100, 0)))).toEqual([0x83, 3]);
    expect(pdu(await probe.request(INV, readPdu(4, 0, 126)))).toEqual([0x84, 3]);
    expect(pdu(await probe.request(INV, readPdu(1, 0, 2001)))).toEqual([0x81, 3]);
    expect(pdu(await probe.request(INV, readPdu(2, 0, 0)))).toEqual([0x82, 3]);
  });

  it('2 for a range past 65535', async () => {
    expect(pdu(await probe.request(INV, readPdu(3, 65535, 2)))).toEqual([0x83, 2]);
  });

  it('2 outside the span of the points of a table, 0 in the gaps inside it (what the read planner bridges)', async () => {
    expect(pdu(await probe.request(INV, readPdu(3, 99, 2)))).toEqual([0x83, 2]); // 99 is below serialNumber
    expect(pdu(await probe.request(INV, readPdu(3, 120, 2)))).toEqual([0x83, 2]); // 121 is past activePowerLimit
    expect(pdu(await probe.request(INV, readPdu(2, 0, 1)))).toEqual([0x82, 2]); // no discrete inputs at all
    const bridged = pdu(await probe.request(INV, readPdu(3, 100, 21)));
    expect(bridged.slice(0, 2)).toEqual([3, 42]);
    expect(bridged.slice(2 + 16, 2 + 40)).toEqual(new Array(24).fill(0)); // registers 108..119: unused, served as 0
    expect(bridged.slice(42)).toEqual([0x03, 0xe8]);
  });

  it('2 for any register no point covers when strictGaps is set', async () => {
    site.device('inv-1').faults.strictGaps = true;
    expect(pdu(await probe.request(INV, readPdu(3, 100, 21)))).toEqual([0x83, 2]);
    expect(pdu(await probe.request(INV, readPdu(4, 17, 14)))).toEqual([0x84, 2]); // 18..29 unused
    expect(pdu(await probe.request(INV, readPdu(3, 100, 8)))[0]).toBe(3); // serialNumber alone is fine
  });

  it('no exception anywhere when lenient', async () => {
    site.device('inv-1').faults.lenient = true;
    expect(pdu(await probe.request(INV, readPdu(3, 0, 3)))).toEqual([3, 6, 0, 0, 0, 0, 0, 0]);
    expect(pdu(await probe.request(INV, readPdu(2, 0, 3)))).toEqual([2, 1, 0]);
  });

  it('3 for a write of a read-only point, 2 for a write where no point is', async () => {
    expect(pdu(await probe.request(INV, writeRegistersPdu(100, [0x4142])))).toEqual([0x90, 3]); // serialNumber is read-only
    expect(pdu(await probe.request(INV, [6, 0, 110, 0, 1]))).toEqual([0x86, 2]); // 110: gap
    expect(pdu(await probe.request(INV, writeRegistersPdu(119, [0, 500])))).toEqual([0x90, 2]); // 119 is a gap
    expect(pdu(await probe.request(INV, [15, 0, 0, 0, 2, 1, 3]))).toEqual([0x8f, 2]); // coil 1 does not exist
    expect(site.device('inv-1').value('activePowerLimit')).toBe(100); // nothing of those was stored
  });

  it('3 for a written value outside the point’s min..max, and for a bad coil value or byte count', async () => {
    expect(pdu(await probe.request(INV, [6, 0, 120, 0x03, 0xe9]))).toEqual([0x86, 3]); // 100.1 % > max 100
    expect(pdu(await probe.request(INV, [5, 0, 0, 0x12, 0x34]))).toEqual([0x85, 3]);
    expect(pdu(await probe.request(INV, [16, 0, 120, 0, 1, 4, 0, 1, 0, 2]))).toEqual([0x90, 3]); // byte count 4 for 1 register
    expect(pdu(await probe.request(INV, [16, 0, 120, 0, 124, 248]))).toEqual([0x90, 3]); // 124 registers > 123
    expect(site.device('inv-1').value('activePowerLimit')).toBe(100);
  });
});

describe('writes', () => {
  it('FC 6 stores a setpoint, answers with an echo and records the write', async () => {
    const before = performance.timeOrigin + performance.now();
    expect(pdu(await probe.request(INV, [6, 0, 120, 0x01, 0xf4]))).toEqual([6, 0, 120, 0x01, 0xf4]);
    const inv = site.device('inv-1');
    expect(inv.value('activePowerLimit')).toBe(50);
    expect(inv.writes).toHaveLength(1);
    const w = inv.writes[0];
    expect(w).toMatchObject({ device: 'inv-1', unitId: INV, fc: 6, table: 'holding', address: 120, values: [500], outcome: 'applied', exceptionCode: null });
    expect(w?.peer).toMatch(/^(::ffff:)?127\.0\.0\.1:\d+$/);
    expect(w?.atMs).toBeGreaterThanOrEqual(before);
    expect(w?.atMs).toBeLessThanOrEqual(performance.timeOrigin + performance.now());
    await probe.request(INV, [6, 0, 120, 0x03, 0xe8]); // back to 100 %
  });

  it('records refused writes too, with their exception code', async () => {
    await probe.request(INV, [6, 0, 120, 0x03, 0xe9]);
    expect(site.device('inv-1').writes).toMatchObject([{ address: 120, values: [1001], outcome: 'exception', exceptionCode: 3 }]);
  });

  it('FC 5 and FC 15 switch coils', async () => {
    const inv = site.device('inv-1');
    expect(pdu(await probe.request(INV, [5, 0, 0, 0, 0]))).toEqual([5, 0, 0, 0, 0]);
    expect(inv.value('enabled')).toBe(false);
    expect(pdu(await probe.request(INV, [1, 0, 0, 0, 1]))).toEqual([1, 1, 0]);
    expect(pdu(await probe.request(INV, [15, 0, 0, 0, 1, 1, 1]))).toEqual([15, 0, 0, 0, 1]);
    expect(inv.value('enabled')).toBe(true);
    expect(inv.writes.map((w) => [w.fc, w.table, w.values])).toEqual([
      [5, 'coil', [0]],
      [15, 'coil', [1]],
    ]);
  });

  it('FC 16 stores a string and a number on a device without physics; they read back', async () => {
    const meter = site.device('meter-1');
    // "GRID" = 0x4752 0x4944, then ctRatio = 200 in one request spanning two points
    expect(pdu(await probe.request(METER, writeRegistersPdu(0, [0x4752, 0x4944, 0, 0, 200])))).toEqual([16, 0, 0, 0, 5]);
    expect(meter.value('label')).toBe('GRID');
    expect(meter.value('ctRatio')).toBe(200);
    expect(pdu(await probe.request(METER, readPdu(3, 0, 5)))).toEqual([3, 10, 0x47, 0x52, 0x49, 0x44, 0, 0, 0, 0, 0, 200]);
  });

  it('a bit point is served inside its register', async () => {
    const wt = site.device('wt-1');
    wt.setValue('alarm', true);
    expect(pdu(await probe.request(WT, readPdu(4, 1, 1)))).toEqual([4, 2, 0, 1]);
    wt.setValue('alarm', false);
    expect(pdu(await probe.request(WT, readPdu(4, 1, 1)))).toEqual([4, 2, 0, 0]);
    wt.release('alarm');
  });
});
