// ZooKeeper down when the agent starts: the agent polls its devices and serves health anyway
// (`degraded`, zookeeper `connecting`), acts on nothing, and once ZooKeeper is up it connects,
// takes the lock and applies the commands that were waiting: one submitted before the outage, one
// submitted by `gridkeeper command` while the agent was still catching up.
import { afterAll, describe, expect, it } from 'vitest';
import { killAllChildren, spawnGridkeeper } from '../../tools/devtools/processes.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { closeSiteClients, E2eSite, openSiteClient } from './harness.js';

let zk: ZkServer | null = null;

afterAll(async () => {
  await killAllChildren();
  await closeSiteClients();
  await zk?.stop();
});

/** The value of one sample of the Prometheus text, e.g. metric('gridkeeper_leader'). */
function metric(text: string, name: string, labels = ''): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? null : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('ZooKeeper down at start', () => {
  it('polls and serves health while ZooKeeper is down, acts on nothing, then connects and applies the waiting commands', async () => {
    const server = await startZooKeeper({ tickTimeMs: 200 });
    zk = server;
    const site = await E2eSite.start({ zkConnect: server.connectString });
    // A command submitted before the outage: it waits in ZooKeeper for an agent.
    const observer = await openSiteClient(server.connectString, site.site);
    const before = await observer.submit({ device: 'inv-1', point: 'activePowerLimit', value: 33, issuedBy: 'e2e' });
    await observer.close();
    await server.stop(); // data kept: start() brings the same tree back on the same port

    const agent = await site.startAgent('gw-a');
    await agent.child.waitForJson((o) => o.msg === 'agent started', 15_000);
    // Health is served and the devices are polled (readings in memory) with no ZooKeeper at all.
    const down = await waitFor(
      'both devices ok in /healthz',
      async () => {
        const h = await agent.health();
        const devices = h.body.devices as Record<string, string>;
        return devices['inv-1'] === 'ok' && devices['wt-1'] === 'ok' ? h : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(down.httpStatus).toBe(200);
    // No write to ZooKeeper yet, so no measure of its clock: the offset is null, the metric has no sample.
    expect(down.body).toEqual({ status: 'degraded', zookeeper: 'connecting', leader: false, devices: { 'inv-1': 'ok', 'wt-1': 'ok' }, clockOffsetMs: null });
    const m1 = await agent.metrics();
    expect(metric(m1, 'gridkeeper_clock_offset_seconds')).toBeNull();
    expect(metric(m1, 'gridkeeper_zookeeper_state', '{state="connecting"}')).toBe(1);
    expect(metric(m1, 'gridkeeper_leader')).toBe(0);
    const polls1 = metric(m1, 'gridkeeper_polls_total', '{device="inv-1",result="ok"}') ?? 0;
    expect(polls1).toBeGreaterThan(0);
    // Polling goes on (every 300 ms) while ZooKeeper stays down; nothing is written to a device.
    await sleep(1500);
    const m2 = await agent.metrics();
    expect(metric(m2, 'gridkeeper_polls_total', '{device="inv-1",result="ok"}') ?? 0).toBeGreaterThan(polls1);
    expect((await agent.health()).body).toMatchObject({ status: 'degraded', zookeeper: 'connecting', leader: false });
    expect(site.writes()).toEqual([]);
    expect(agent.child.isRunning()).toBe(true);

    // ZooKeeper comes up; an operator submits a setpoint right away (the CLI waits for the result).
    const restartedAt = Date.now();
    await server.start();
    const cli = spawnGridkeeper(
      ['command', '--zookeeper', server.connectString, '--site', site.site, '--device', 'inv-1', '--point', 'activePowerLimit', '--value', '44', '--wait-ms', '30000'],
      { label: 'command during catch-up' },
    );
    await agent.leader(30_000);
    const leaderAfterMs = Date.now() - restartedAt;
    const status = await cli.exited;
    expect(status.code, cli.stderr()).toBe(0);
    expect(cli.stdout()).toMatch(/^cmd-0000000001 applied: inv-1\.activePowerLimit = 44 by gw-a /);

    const op = await openSiteClient(server.connectString, site.site);
    const results = await op.awaitResults([before], 10_000);
    expect(results.get(before)).toMatchObject({ status: 'applied', agentId: 'gw-a', readBack: 33 });
    expect((await op.results()).size).toBe(2);
    // In submission order, each once.
    expect(site.limitWrites().map((w) => w.percent)).toEqual([33, 44]);
    const up = await waitFor(
      'health ok',
      async () => {
        const h = await agent.health();
        return h.body.status === 'ok' ? h : undefined;
      },
      { timeoutMs: 5000 },
    );
    expect(up.body).toEqual({ status: 'ok', zookeeper: 'connected', leader: true, devices: { 'inv-1': 'ok', 'wt-1': 'ok' }, clockOffsetMs: expect.any(Number) });
    // ZooKeeper runs on this machine: the same clock, but for the estimate's half round trip.
    expect(Math.abs(up.body.clockOffsetMs as number)).toBeLessThan(1000);
    expect(metric(await agent.metrics(), 'gridkeeper_clock_offset_seconds')).not.toBeNull();
    console.log(`ZooKeeper down at start: agent led ${leaderAfterMs} ms after ZooKeeper was back`);
  });
});
