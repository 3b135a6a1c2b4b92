// The agent's readings writes against a real ZooKeeper and the simulator (CONTRACT.md section 10):
// a move inside a point's deadband writes nothing, one at the band does, a status change always
// does, and with nothing moving the alive write comes every publish.maxIntervalMs.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig } from '../../src/config/load.js';
import type { ZkStat } from '../../src/coordination/index.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { freePort } from '../../tools/devtools/ports.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { zooKeeperSuite } from '../helpers/zookeeper-suite.js';

const silent = pino({ level: 'silent' });
const suite = zooKeeperSuite();
const { toClose } = suite;


/** One generic inverter, frozen (values move only when set), an agent of it leading, and an operator. */
async function site(name: string, publish: string): Promise<{ sim: SimulatedSite; op: SiteClient; stat: () => Promise<ZkStat>; value: (point: string) => Promise<unknown> }> {
  const port = await freePort();
  const yaml = (agentId: string): string => `
site: ${name}
agent: { id: ${agentId} }
zookeeper: { connect: "${suite.zk.connectString}", sessionTimeoutMs: 4000 }
publish: ${publish}
http: { listen: false }
buses: [{ id: lan, type: tcp, host: 127.0.0.1, port: ${port}, timeoutMs: 500 }]
devices: [{ id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter, pollIntervalMs: 200 }]
`;
  const sim = new SimulatedSite(parseConfig(yaml('simulator'), `${name}-sim.yaml`), { logger: silent, ...frozenOptions() });
  await sim.start();
  toClose.push(sim);
  const agent = new Agent(parseConfig(yaml('gw-a'), `${name}-gw-a.yaml`), { logger: silent, version: 'test' });
  await agent.start();
  toClose.push(agent);
  const op = await SiteClient.open({ connect: suite.zk.connectString, site: name }, { logger: silent });
  toClose.push(op);
  const path = op.paths.reading('gw-a');
  await waitFor('the leader publishing inv-1 ok', async () => {
    const doc = (await op.readings('gw-a')) as { leader?: boolean; devices?: Record<string, { status?: string }> } | null;
    return doc?.leader === true && doc.devices?.['inv-1']?.status === 'ok';
  }, { timeoutMs: 15_000 });
  return {
    sim,
    op,
    stat: async () => {
      const s = await op.stat(path);
      if (s === null) throw new Error(`${path} is gone`);
      return s;
    },
    value: async (point) => {
      const doc = (await op.readings('gw-a')) as { devices: Record<string, { values: Record<string, unknown> }> } | null;
      return doc?.devices['inv-1']?.values[point];
    },
  };
}

describe('readings writes with deadbands', () => {
  it('a move inside the deadband writes nothing, one at the band does, a status change always does', async () => {
    // The profile's heat-sink band is 0.5 °C; frozen, the simulator serves 25.0 °C.
    const s = await site('publish-deadband', '{ intervalMs: 100 }');
    expect(await s.value('temperature')).toBe(25);
    const before = (await s.stat()).version;
    s.sim.device('inv-1').setValue('temperature', 25.4);
    await sleep(1200); // 6 polls, 12 publish ticks
    expect((await s.stat()).version).toBe(before);
    expect(await s.value('temperature')).toBe(25);

    s.sim.device('inv-1').setValue('temperature', 25.5); // exactly at the band from the published 25.0
    await waitFor('25.5 °C published', async () => (await s.value('temperature')) === 25.5, { timeoutMs: 3000, intervalMs: 20 });
    const afterBand = (await s.stat()).version;
    expect(afterBand).toBe(before + 1);

    s.sim.device('inv-1').setValue('temperature', 25.6); // inside the band again, and the device fails
    s.sim.device('inv-1').faults.exception = { code: 4 };
    await waitFor('the error published', async () => {
      const doc = (await s.op.readings('gw-a')) as { devices: Record<string, { status: string }> } | null;
      return doc?.devices['inv-1']?.status === 'error';
    }, { timeoutMs: 3000, intervalMs: 20 });
    expect((await s.stat()).version).toBe(afterBand + 1);
  });

  it('writes the alive snapshot every publish.maxIntervalMs while nothing moves', async () => {
    const MAX_MS = 500;
    const s = await site('publish-alive', `{ intervalMs: 100, maxIntervalMs: ${MAX_MS} }`);
    // Server times of the writes (mtime, ZooKeeper's clock) over 3 s of frozen values.
    const mtimes: number[] = [];
    const endMs = Date.now() + 3000;
    let last = -1;
    while (Date.now() < endMs) {
      const stat = await s.stat();
      if (stat.version !== last) {
        if (last !== -1) mtimes.push(stat.mtimeMs);
        last = stat.version;
      }
      await sleep(20);
    }
    const gaps = mtimes.slice(1).map((t, i) => t - (mtimes[i] ?? t));
    expect(mtimes.length).toBeGreaterThanOrEqual(4);
    expect(mtimes.length).toBeLessThanOrEqual(7);
    for (const gap of gaps) {
      // The tick after maxIntervalMs (100 ms ticks, half a tick of slack), on a shared machine.
      expect(gap).toBeGreaterThanOrEqual(MAX_MS - 100);
      expect(gap).toBeLessThan(MAX_MS + 400);
    }
  });
});
