// The simulator's SunSpec devices (`profile: sunspec`) at each of the three base addresses, read and
// written over a real TCP socket by modbus-serial and decoded by the hand-written reader beside this
// file (not by src/drivers/sunspec): the marker, the model chain, values with their scale factors
// and "not implemented" encodings, the power limit followed by the output, the revert timers, the
// storage controls, and writes a real device refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedSite, type WriteRecord } from '../../src/simulator/index.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { OFFSET, SUNS, int16, modelRegisters, readHolding, scaled, text, uint32, walk, type Header } from './sunspec-reader.js';
import { ModbusClient, RawTcpProbe, siteConfig, writeRegistersPdu, serveForTests } from './support.js';

const PV = 1;
const BAT = 2;
const RATED_W = 15_000;

function yaml(base: number | 'auto'): string {
  return `
site: sunspec-sim
agent: { id: sunspec-sim }
zookeeper: { connect: "127.0.0.1:2181" }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: 1502 }
devices:
  - { id: pv-1, kind: inverter, bus: lan, unitId: ${PV}, profile: sunspec, sunspec: { baseAddress: ${base} } }
  - { id: bat-1, kind: bms, bus: lan, unitId: ${BAT}, profile: sunspec, sunspec: { baseAddress: ${base} } }
`;
}

const BASES = [
  { written: 'auto', base: 40000 },
  { written: 0, base: 0 },
  { written: 50000, base: 50000 },
] as const;

describe.each(BASES)('SunSpec devices at base $written', ({ written, base }) => {
  const writes: WriteRecord[] = [];
  // The tick timer runs (50 ms steps) so that outputs ramp and timers act as on a live simulator.
  const site = new SimulatedSite(siteConfig(yaml(written)), { tickMs: 50, onWrite: (r) => writes.push(r) });
  const client = new ModbusClient();
  let probe: RawTcpProbe;
  let pvModels: Header[];
  let batModels: Header[];
  const model = (models: Header[], id: number): Header => {
    const m = models.find((x) => x.id === id);
    if (m === undefined) throw new Error(`model ${id} not in the chain`);
    return m;
  };
  const readAt = async (unit: number, m: Header, offset: number, count = 1): Promise<number[]> => readHolding(client, unit, m.start + offset, count);
  const write = async (unit: number, m: Header, offset: number, values: number[]): Promise<void> => {
    client.setID(unit);
    await client.writeRegisters(m.start + offset, values);
  };
  const pvPowerW = async (): Promise<number> => {
    const [w = 0, sf = 0] = await readAt(PV, model(pvModels, 103), OFFSET.m103.W, 2);
    return scaled(int16(w), sf);
  };

  beforeAll(async () => {
    await site.start();
    const { port } = site.tcpAddress('lan');
    await client.connectTCP('127.0.0.1', { port });
    client.setTimeout(2000);
    probe = await RawTcpProbe.connect(port);
    pvModels = (await walk(client, PV, base)).models;
    batModels = (await walk(client, BAT, base)).models;
  });
  afterAll(async () => {
    probe.close();
    await new Promise<void>((resolve) => client.close(() => resolve()));
    await site.close();
  });

  it('"SunS" at the base, the chain 1 103 120 121 123 160 (2 modules) and 1 124 802, then the end marker', async () => {
    const pv = await walk(client, PV, base);
    expect(pv.marker).toEqual([...SUNS]);
    expect(pv.models.map((m) => [m.id, m.length])).toEqual([[1, 66], [103, 50], [120, 26], [121, 30], [123, 24], [160, 48]]);
    expect(pv.models[0]?.start).toBe(base + 2);
    expect(await readHolding(client, PV, pv.end, 2)).toEqual([0xffff, 0]);
    const bat = await walk(client, BAT, base);
    expect(bat.marker).toEqual([...SUNS]);
    expect(bat.models.map((m) => [m.id, m.length])).toEqual([[1, 66], [124, 24], [802, 62]]);
  });

  it('answers exception 2 below the marker and past the end marker, as discovery of another base expects', async () => {
    const pv = await walk(client, PV, base);
    if (base > 0) expect(await pduOf(probe, PV, base - 1)).toEqual([0x83, 2]);
    expect(await pduOf(probe, PV, pv.end + 2)).toEqual([0x83, 2]);
    for (const other of [40000, 0, 50000].filter((b) => b !== base)) expect(await pduOf(probe, PV, other)).toEqual([0x83, 2]);
  });

  it('model 1 names the device: manufacturer, model, version, serial, unit; Opt left out', async () => {
    const regs = await modelRegisters(client, PV, model(pvModels, 1));
    expect(text(regs, OFFSET.m1.Mn, 16)).toBe('gridkeeper');
    expect(text(regs, OFFSET.m1.Md, 16)).toBe('GK-SIM-PV15K');
    expect(regs.slice(OFFSET.m1.Opt, OFFSET.m1.Opt + 8)).toEqual(new Array(8).fill(0)); // string not implemented: all zero
    expect(text(regs, OFFSET.m1.Vr, 8)).toBe('1.4.2');
    expect(text(regs, OFFSET.m1.SN, 16)).toMatch(/^GKPV[0-9A-F]{8}$/);
    expect(regs[OFFSET.m1.DA]).toBe(PV);
    const bat = await modelRegisters(client, BAT, model(batModels, 1));
    expect(text(bat, OFFSET.m1.Md, 16)).toBe('GK-SIM-BAT41');
  });

  it('inverter values with their scale factors (negative ones among them) and the points a device leaves out', async () => {
    const m103 = await modelRegisters(client, PV, model(pvModels, 103));
    const at = (name: keyof typeof OFFSET.m103): number => m103[OFFSET.m103[name]] ?? Number.NaN;
    expect(int16(at('A_SF'))).toBe(-2);
    expect(int16(at('V_SF'))).toBe(-1);
    expect(int16(at('Hz_SF'))).toBe(-2);
    expect(scaled(at('PhVphA'), at('V_SF'))).toBeGreaterThan(220);
    expect(scaled(at('PhVphA'), at('V_SF'))).toBeLessThan(240);
    expect(scaled(at('Hz'), at('Hz_SF'))).toBeCloseTo(50, 0);
    // The array offers at least half its rating at any simulated hour: there is power to curtail.
    const w = scaled(int16(at('W')), at('W_SF'));
    expect(w).toBeGreaterThan(0.49 * RATED_W);
    expect(w).toBeLessThanOrEqual(RATED_W);
    const phaseSum = [0, 1, 2].reduce((sum, i) => sum + scaled(m103[OFFSET.m103.AphA + i] ?? 0, at('A_SF')) * scaled(m103[OFFSET.m103.PhVphA + i] ?? 0, at('V_SF')), 0);
    expect(phaseSum / w).toBeGreaterThan(0.97); // P = sum of V*I (a 0.01 A step is 2.3 W)
    expect(phaseSum / w).toBeLessThan(1.03);
    expect(scaled(uint32(m103, OFFSET.m103.WH), at('WH_SF'))).toBeGreaterThan(1_000_000);
    expect(at('St')).toBe(4); // MPPT
    // Left out: int16 0x8000, enum16 0xFFFF, bitfield32 0xFFFFFFFF.
    expect([at('TmpTrns'), at('TmpOt'), at('StVnd')]).toEqual([0x8000, 0x8000, 0xffff]);
    expect(m103.slice(OFFSET.m103.EvtVnd1, OFFSET.m103.EvtVnd4 + 2)).toEqual(new Array(8).fill(0xffff));

    const m120 = await modelRegisters(client, PV, model(pvModels, 120));
    expect(m120[OFFSET.m120.DERTyp]).toBe(4); // PV
    expect(scaled(m120[OFFSET.m120.WRtg] ?? 0, m120[OFFSET.m120.WRtg_SF] ?? 0)).toBe(RATED_W);
    expect([m120[OFFSET.m120.WHRtg], m120[OFFSET.m120.WHRtg_SF]]).toEqual([0xffff, 0x8000]); // no storage rating, its sunssf too

    const m121 = await modelRegisters(client, PV, model(pvModels, 121));
    expect(scaled(m121[OFFSET.m121.WMax] ?? 0, m121[OFFSET.m121.WMax_SF] ?? 0)).toBe(RATED_W);

    const m123 = await modelRegisters(client, PV, model(pvModels, 123));
    expect(int16(m123[OFFSET.m123.WMaxLimPct_SF] ?? 0)).toBe(-2);
    expect(m123[OFFSET.m123.WMaxLimPct]).toBe(10000); // 100.00 %
    expect(m123[OFFSET.m123.WMaxLim_Ena]).toBe(0);
    expect(m123[OFFSET.m123.WMaxLimPct_WinTms]).toBe(0xffff); // not implemented

    const mppt = model(pvModels, 160);
    const m160 = await modelRegisters(client, PV, mppt);
    expect(m160[OFFSET.m160.N]).toBe(2);
    const modules = [0, 1].map((i) => OFFSET.m160.module + i * OFFSET.m160.moduleSize);
    expect(modules.map((o) => m160[o + OFFSET.m160.ID])).toEqual([1, 2]);
    expect(modules.map((o) => text(m160, o + OFFSET.m160.IDStr, 8))).toEqual(['MPPT A', 'MPPT B']);
    const dcW = modules.reduce((sum, o) => sum + scaled(m160[o + OFFSET.m160.DCW] ?? 0, m160[OFFSET.m160.DCW_SF] ?? 0), 0);
    expect(dcW / w).toBeGreaterThan(1); // DC in, AC out: the inverter loses a few percent
    expect(dcW / w).toBeLessThan(1.06);
  });

  it('storage values: state of charge in 124 and 802 with a negative scale factor', async () => {
    const m124 = await modelRegisters(client, BAT, model(batModels, 124));
    expect(int16(m124[OFFSET.m124.ChaState_SF] ?? 0)).toBe(-1);
    const chaState = scaled(m124[OFFSET.m124.ChaState] ?? 0, m124[OFFSET.m124.ChaState_SF] ?? 0);
    const m802 = await modelRegisters(client, BAT, model(batModels, 802));
    const soc = scaled(m802[OFFSET.m802.SoC] ?? 0, m802[OFFSET.m802.SoC_SF] ?? 0);
    expect(soc).toBeGreaterThan(10);
    expect(soc).toBeLessThan(100);
    expect(Math.abs(chaState - soc)).toBeLessThan(0.5);
    expect(m802[OFFSET.m802.WHRtg]).toBe(40960);
    expect(m802[OFFSET.m802.Typ]).toBe(4); // lithium-ion
  });

  it('the output follows WMaxLimPct once WMaxLim_Ena = 1, ramping within a second, and comes back when disabled', async () => {
    const controls = model(pvModels, 123);
    const free = await pvPowerW();
    await write(PV, controls, OFFSET.m123.WMaxLimPct, [3000]); // 30.00 % of WMax
    expect(Math.abs((await pvPowerW()) - free)).toBeLessThan(0.05 * RATED_W); // not enabled yet: nothing changes
    const t0 = performance.now();
    await write(PV, controls, OFFSET.m123.WMaxLim_Ena, [1]);
    // 30 % of 15 kW; the output ramps at 100 % of the rating per second, so well within 2 s.
    await waitFor('the output at the limit', async () => Math.abs((await pvPowerW()) - 4500) <= 15, { timeoutMs: 2000, intervalMs: 50 });
    const rampMs = performance.now() - t0;
    expect(rampMs).toBeLessThan(2000);
    expect((await readAt(PV, model(pvModels, 103), OFFSET.m103.St))[0]).toBe(5); // throttled
    await write(PV, controls, OFFSET.m123.WMaxLim_Ena, [0]);
    await waitFor('the output back to what the array offers', async () => (await pvPowerW()) > 0.49 * RATED_W, { timeoutMs: 2000, intervalMs: 50 });
  });

  it('the revert timer: a limit not written again within WMaxLimPct_RvrtTms is disabled by the device; rewriting keeps it', async () => {
    const controls = model(pvModels, 123);
    const enabled = async (): Promise<number | undefined> => (await readAt(PV, controls, OFFSET.m123.WMaxLim_Ena))[0];
    // The agent's refresh: the control, the timer, the enable flag (every 0.4 s against a 1 s timer).
    const refresh = async (): Promise<void> => {
      await write(PV, controls, OFFSET.m123.WMaxLimPct, [2000]);
      await write(PV, controls, OFFSET.m123.WMaxLimPct_RvrtTms, [1]);
      await write(PV, controls, OFFSET.m123.WMaxLim_Ena, [1]);
    };
    await refresh();
    for (let i = 0; i < 5; i++) {
      await sleep(400);
      expect(await enabled(), `refresh ${i}`).toBe(1);
      await refresh();
    }
    const lastWriteMs = performance.now();
    await waitFor('the device to disable the limit', async () => (await enabled()) === 0, { timeoutMs: 3000, intervalMs: 25 });
    const revertedAfterMs = performance.now() - lastWriteMs;
    expect(revertedAfterMs).toBeGreaterThan(900); // 1 s, less the read's own latency
    expect(revertedAfterMs).toBeLessThan(1600); // plus a tick and a read
    await waitFor('the output back without the limit', async () => (await pvPowerW()) > 0.49 * RATED_W, { timeoutMs: 2000, intervalMs: 50 });
    await write(PV, controls, OFFSET.m123.WMaxLimPct_RvrtTms, [0]);
  });

  it('storage: StorCtl_Mod with InWRte / OutWRte forces charging and discharging; SoC follows; the rate timer reverts', async () => {
    const ctl = model(batModels, 124);
    const battery = model(batModels, 802);
    const batteryW = async (): Promise<number> => {
      const regs = await modelRegisters(client, BAT, battery);
      return scaled(int16(regs[OFFSET.m802.W] ?? 0), regs[OFFSET.m802.W_SF] ?? 0);
    };
    const soc = async (): Promise<number> => {
      const regs = await modelRegisters(client, BAT, battery);
      return scaled(regs[OFFSET.m802.SoC] ?? 0, regs[OFFSET.m802.SoC_SF] ?? 0);
    };
    // Charge at exactly 50 %: charging capped at 50 %, discharging at -50 % (that is: charging at 50 % at least).
    await write(BAT, ctl, OFFSET.m124.OutWRte, [-500 & 0xffff, 500]); // OutWRte -50.0 %, InWRte 50.0 %
    await write(BAT, ctl, OFFSET.m124.StorCtl_Mod, [3]);
    await waitFor('charging at 5 kW (802 W negative: generator convention)', async () => (await batteryW()) === -5000, { timeoutMs: 2000, intervalMs: 50 });
    expect((await readAt(BAT, ctl, OFFSET.m124.ChaSt))[0]).toBe(4); // CHARGING
    const before = await soc();
    await sleep(1000); // 144 s simulated: 5 kW × 0.04 h = 200 Wh = 0.49 % of 40.96 kWh
    expect((await soc()) - before).toBeGreaterThan(0.25);

    await write(BAT, ctl, OFFSET.m124.OutWRte, [500, -500 & 0xffff]); // discharge at 50 % exactly
    await waitFor('discharging at 5 kW', async () => (await batteryW()) === 5000, { timeoutMs: 2000, intervalMs: 50 });
    expect((await readAt(BAT, ctl, OFFSET.m124.ChaSt))[0]).toBe(3); // DISCHARGING

    await write(BAT, ctl, OFFSET.m124.InOutWRte_RvrtTms, [1]);
    const armedMs = performance.now();
    await waitFor('the device to release the rates', async () => (await readAt(BAT, ctl, OFFSET.m124.StorCtl_Mod))[0] === 0, { timeoutMs: 3000, intervalMs: 25 });
    expect(performance.now() - armedMs).toBeGreaterThan(900);
  });

  it('refuses what a real device refuses: read-only points and headers (3), out-of-range values (3), past the end (2); all recorded', async () => {
    const controls = model(pvModels, 123);
    writes.length = 0;
    const m103 = model(pvModels, 103);
    expect(await writePdu(probe, PV, m103.start + OFFSET.m103.W, [1])).toEqual([0x90, 3]); // a measurement
    expect(await writePdu(probe, PV, m103.start, [104])).toEqual([0x90, 3]); // the model's ID register
    expect(await writePdu(probe, PV, base, [0])).toEqual([0x90, 3]); // the marker
    expect(await writePdu(probe, PV, controls.start + OFFSET.m123.WMaxLimPct, [15000])).toEqual([0x90, 3]); // 150.00 %
    expect(await writePdu(probe, PV, controls.start + OFFSET.m123.WMaxLim_Ena, [2])).toEqual([0x90, 3]); // not a symbol
    expect(await writePdu(probe, PV, controls.start + OFFSET.m123.WMaxLimPct_WinTms, [10])).toEqual([0x90, 3]); // left out
    const end = (await walk(client, PV, base)).end;
    expect(await writePdu(probe, PV, end + 2, [1])).toEqual([0x90, 2]);
    expect(await writePdu(probe, PV, controls.start + OFFSET.m123.WMaxLimPct, [5000])).toEqual([0x10, (controls.start + 5) >> 8, (controls.start + 5) & 0xff, 0, 1]);
    expect(writes.map((w) => [w.device, w.outcome, w.exceptionCode])).toEqual([
      ...new Array(6).fill(['pv-1', 'exception', 3]),
      ['pv-1', 'exception', 2],
      ['pv-1', 'applied', null],
    ]);
    expect(writes.at(-1)).toMatchObject({ unitId: PV, fc: 16, table: 'holding', address: controls.start + OFFSET.m123.WMaxLimPct, values: [5000] });
  });
});

describe('a device further down a daisy chain (sunspec.index 2)', () => {
  const site = new SimulatedSite(
    siteConfig(yaml(0).replace('sunspec: { baseAddress: 0 } }\n  - { id: bat-1', 'sunspec: { baseAddress: 0, index: 2 } }\n  - { id: bat-1')),
    { tickMs: 0 },
  );
  const client = new ModbusClient();
  serveForTests(site, client);

  it('is served after a data logger that has model 1 only, both between one marker and one end marker', async () => {
    const chain = await walk(client, PV, 0);
    expect(chain.models.map((m) => m.id)).toEqual([1, 1, 103, 120, 121, 123, 160]);
    const [logger, inverter] = await Promise.all(chain.models.slice(0, 2).map(async (m) => text(await modelRegisters(client, PV, m), OFFSET.m1.Md, 16)));
    expect([logger, inverter]).toEqual(['GK-SIM-LOGGER', 'GK-SIM-PV15K']);
  });
});

/** The answer PDU to a read of 2 registers at `address`. */
async function pduOf(probe: RawTcpProbe, unit: number, address: number): Promise<number[]> {
  const r = await probe.request(unit, [3, address >> 8, address & 0xff, 0, 2]);
  if (r.kind !== 'answer') throw new Error(`no answer: ${r.kind}`);
  return [...r.pdu];
}

/** The answer PDU to FC 16 at `address`. */
async function writePdu(probe: RawTcpProbe, unit: number, address: number, values: number[]): Promise<number[]> {
  const r = await probe.request(unit, writeRegistersPdu(address, values));
  if (r.kind !== 'answer') throw new Error(`no answer: ${r.kind}`);
  return [...r.pdu];
}
