// A SunSpec control as a held setpoint (CONTRACT.md section 7), in-process against a real ZooKeeper
// and the simulator's SunSpec inverter, whose 123 revert timer runs in real time: a command programs
// WMaxLimPct_RvrtTms (sunspec.revertSeconds) before the recipe (setpoint, then WMaxLim_Ena); the
// holder refreshes the control every third of the window less a poll, so the device never drops it;
// a release switches it off (WMaxLim_Ena = 0) and deletes the node.
//
// Timing (config/fallback-timing.ts): R = 8 s, T = 3 s, p = 200 ms: 2R/3 = 5333 ms > 3000 + 400 + 1000.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig } from '../../src/config/load.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import type { WriteRecord } from '../../src/simulator/write-record.js';
import { zooKeeperSuite } from '../helpers/zookeeper-suite.js';
import { freePort } from '../../tools/devtools/ports.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';

const silent = pino({ level: 'silent' });
const WINDOW_S = 8;
/** Model 123 of the simulated inverter at base 40000 (src/simulator/README.md): its ID at 40182. */
const M123 = { WMaxLimPct: 40187, WMaxLimPct_RvrtTms: 40189, WMaxLim_Ena: 40191 } as const;

const suite = zooKeeperSuite({ tickTimeMs: 200 });
const { toClose } = suite;


describe('a held SunSpec control', () => {
  it('programs the revert timer, is refreshed so the device never drops it, and is released by switching it off', async () => {
    const port = await freePort();
    const yaml = (agentId: string, http: string): string => `
site: sunspec-hold
agent: { id: ${agentId} }
zookeeper: { connect: "${suite.zk.connectString}", sessionTimeoutMs: 3000 }
publish: { intervalMs: 100 }
http: { listen: ${http} }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: ${port}, timeoutMs: 500 }
devices:
  - { id: pv-1, kind: inverter, bus: lan, unitId: 1, profile: sunspec, pollIntervalMs: 200, sunspec: { revertSeconds: ${WINDOW_S} } }
`;
    const writes: WriteRecord[] = [];
    const sim = new SimulatedSite(parseConfig(yaml('simulator', 'false'), 'sim.yaml'), { logger: silent, ...frozenOptions(), onWrite: (w) => writes.push(w) });
    await sim.start();
    toClose.push(sim);
    const agent = new Agent(parseConfig(yaml('gw-a', `"127.0.0.1:${await freePort()}"`), 'gw-a.yaml'), { logger: silent, version: 'test' });
    await agent.start();
    toClose.push(agent);
    const op = await SiteClient.open({ connect: suite.zk.connectString, site: 'sunspec-hold' }, { logger: silent });
    toClose.push(op);
    await waitFor('leader, pv-1 ok', () => agent.isLeader && agent.readings()['pv-1']?.status === 'ok', { timeoutMs: 15_000 });
    const pv = sim.device('pv-1');
    expect(pv.value('m123_WMaxLimPct_RvrtTms')).toBe(0); // as shipped: no timer

    const id = await op.submit({ device: 'pv-1', point: 'activePowerLimit', value: 40 });
    expect(await op.awaitResult(id, 10_000)).toMatchObject({ status: 'applied', readBack: 40 });
    const appliedAt = performance.timeOrigin + performance.now();
    expect(writes.map((w) => [w.address, w.values])).toEqual([
      [M123.WMaxLimPct_RvrtTms, [WINDOW_S]],
      [M123.WMaxLimPct, [4000]],
      [M123.WMaxLim_Ena, [1]],
    ]);
    expect(await op.readJson(op.paths.setpoint('pv-1', 'activePowerLimit'))).toMatchObject({ value: 40, command: id, holdUntil: null });

    // A window and a half: the device never drops the limit; the control and its switch are written
    // again every R/3 - p, the timer (already 8 s) not again.
    let dropped = false;
    const sampler = setInterval(() => {
      if (pv.value('m123_WMaxLim_Ena') !== 1) dropped = true;
    }, 50);
    await sleep(1.5 * WINDOW_S * 1000);
    clearInterval(sampler);
    expect(dropped).toBe(false);
    const refreshes = writes.filter((w) => w.address === M123.WMaxLimPct && w.atMs > appliedAt);
    expect(refreshes.length).toBeGreaterThanOrEqual(3);
    expect(writes.filter((w) => w.address === M123.WMaxLimPct_RvrtTms)).toHaveLength(1);
    expect(agent.readings()['pv-1']?.fallback).toMatchObject({ windowMs: WINDOW_S * 1000 });

    const release = await op.submit({ device: 'pv-1', point: 'activePowerLimit', value: null });
    expect(await op.awaitResult(release, 10_000)).toMatchObject({ status: 'applied', readBack: 100 });
    expect(pv.value('m123_WMaxLim_Ena')).toBe(0);
    expect(writes.at(-1)).toMatchObject({ address: M123.WMaxLim_Ena, values: [0] });
    expect(await op.stat(op.paths.setpoint('pv-1', 'activePowerLimit'))).toBeNull();
    await waitFor('the limit published as released', () => agent.readings()['pv-1']?.values['activePowerLimit'] === 100, { timeoutMs: 3000 });
    expect(agent.readings()['pv-1']?.fallback).toBeUndefined();
  });
});
