// The Agent in-process against a real ZooKeeper and the real simulator: health and metrics over
// HTTP, the readings snapshot, leaderOnly buses following the lock, and quiet publishing.
import fs from 'node:fs';
import nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import { parseConfig } from '../../src/config/load.js';
import type { SiteConfig } from '../../src/config/types.js';
import { CredentialsError } from '../../src/coordination/errors.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { zooKeeperSuite } from '../helpers/zookeeper-suite.js';
import { freePort } from '../../tools/devtools/ports.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { waitFor } from '../../tools/devtools/wait.js';

const silent = pino({ level: 'silent' });
const suite = zooKeeperSuite();
const { toClose } = suite;


/** The operator's client of `site`, closed after the test. */
async function operator(site: string): Promise<SiteClient> {
  const client = await SiteClient.open({ connect: suite.zk.connectString, site }, { logger: silent });
  toClose.push(client);
  return client;
}

/**
 * A site with an inverter on bus `lan` and a BMS on bus `field` (its own port), served by an
 * in-process simulator with frozen values; `failing` makes both devices answer every request with
 * exception 4 (server device failure).
 */
async function site(
  name: string,
  opts: { leaderOnly?: boolean; failing?: boolean } = {},
): Promise<(agentId: string, httpPort: number) => SiteConfig> {
  const [lanPort, fieldPort] = [await freePort(), await freePort()];
  const yaml = (agentId: string, http: string): string => `
site: ${name}
agent: { id: ${agentId} }
zookeeper: { connect: "${suite.zk.connectString}", sessionTimeoutMs: 4000 }
publish: { intervalMs: 100 }
http: { listen: ${http} }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: ${lanPort}, timeoutMs: 500 }
  - { id: field, type: tcp, host: 127.0.0.1, port: ${fieldPort}, timeoutMs: 500, leaderOnly: ${opts.leaderOnly ?? false} }
devices:
  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter, pollIntervalMs: 200 }
  - { id: bms-1, kind: bms, bus: field, unitId: 3, profile: generic-bms, pollIntervalMs: 200 }
`;
  const sim = new SimulatedSite(parseConfig(yaml('simulator', 'false'), `${name}-sim.yaml`), { logger: silent, ...frozenOptions() });
  if (opts.failing) for (const d of sim.allDevices()) d.faults.exception = { code: 4 };
  await sim.start();
  toClose.push(sim);
  return (agentId, httpPort) => parseConfig(yaml(agentId, `"127.0.0.1:${httpPort}"`), `${name}-${agentId}.yaml`);
}

async function startAgent(config: SiteConfig): Promise<Agent> {
  const agent = new Agent(config, { logger: silent, version: 'test' });
  await agent.start();
  toClose.push(agent);
  return agent;
}

async function getJson(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('agent', () => {
  it('serves /healthz and /metrics with the contract fields and gridkeeper_ metric names', async () => {
    const yaml = await site('agent-http');
    const httpPort = await freePort();
    const agent = await startAgent(yaml('gw-a', httpPort));
    // Leader within a few ticks of the server (tick 200 ms) plus the first polls (200 ms interval).
    await waitFor('leader and devices ok', () => agent.isLeader && Object.values(agent.readings()).every((r) => r.status === 'ok'), { timeoutMs: 10_000 });
    const health = await getJson(httpPort, '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok', zookeeper: 'connected', leader: true, devices: { 'inv-1': 'ok', 'bms-1': 'ok' }, clockOffsetMs: expect.any(Number) });
    // ZooKeeper runs on this machine: its clock is ours, but for the estimate's half round trip.
    expect(Math.abs(health.body.clockOffsetMs as number)).toBeLessThan(1000);

    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    for (const name of [
      'gridkeeper_poll_duration_seconds_bucket{le="0.005",device="inv-1"}',
      'gridkeeper_device_up{device="inv-1",kind="inverter",bus="lan"} 1',
      'gridkeeper_zookeeper_state{state="connected"} 1',
      'gridkeeper_leader 1',
    ]) {
      expect(metrics).toContain(name);
    }
    await waitFor('bus metrics', async () => (await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()).includes('gridkeeper_modbus_requests_total{bus="lan"}'), { timeoutMs: 3000 });
    for (const line of metrics.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'))) expect(line.startsWith('gridkeeper_')).toBe(true);
    expect((await fetch(`http://127.0.0.1:${httpPort}/nope`)).status).toBe(404);
  });

  it('publishes the readings snapshot of CONTRACT.md section 3 under readings/<agentId>', async () => {
    const yaml = await site('agent-readings');
    const agent = await startAgent(yaml('gw-a', await freePort()));
    const op = await operator('agent-readings');
    const snapshot = await waitFor(
      'a snapshot of the leader with both devices ok',
      async () => {
        const doc = (await op.readings('gw-a')) as { leader: boolean; devices: Record<string, { status: string }> } | null;
        const devices = Object.values(doc?.devices ?? {});
        return doc?.leader && devices.length === 2 && devices.every((d) => d.status === 'ok') ? doc : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(snapshot).toMatchObject({ site: 'agent-readings', agentId: 'gw-a', leader: true });
    expect(agent.isLeader).toBe(true);
    const s = snapshot as unknown as Record<string, unknown> & { devices: Record<string, Record<string, unknown>> };
    expect(typeof s.seq).toBe('number');
    expect(Number.isNaN(Date.parse(String(s.publishedAt)))).toBe(false);
    const inv = s.devices['inv-1']!;
    expect(inv).toMatchObject({ kind: 'inverter', status: 'ok', error: null });
    expect(Object.keys(inv.values as object)).toEqual(expect.arrayContaining(['activePower', 'activePowerLimit', 'enabled', 'serialNumber']));
  });

  it('does not rewrite readings when nothing changed (devices stuck in the same error)', async () => {
    const yaml = await site('agent-quiet', { failing: true });
    await startAgent(yaml('gw-a', await freePort()));
    const op = await operator('agent-quiet');
    const path = op.paths.reading('gw-a');
    const versionOf = async (): Promise<number> => {
      const stat = await op.stat(path);
      if (stat === null) throw new Error(`${path} is gone`);
      return stat.version;
    };
    // Both devices are in `error` with the same message from their first poll on.
    await waitFor('readings node', async () => (await op.stat(path)) !== null, { timeoutMs: 10_000 });
    await waitFor(
      'both devices published in error, by the leader',
      async () => {
        const doc = (await op.readings('gw-a')) as { leader: boolean; devices: Record<string, { status: string; error: string | null }> } | null;
        // Leadership may come after the first errors (the site tree takes a few round trips): a change too.
        return doc?.leader === true && Object.values(doc.devices).filter((d) => d.status === 'error' && d.error?.includes('exception 4')).length === 2;
      },
      { timeoutMs: 10_000 },
    );
    const before = await versionOf();
    await new Promise((r) => setTimeout(r, 1500)); // 15 publish intervals
    expect(await versionOf()).toBe(before);
  });

  it('polls a leaderOnly bus only while holding the lock, and shows standby otherwise', async () => {
    const yaml = await site('agent-leader-only', { leaderOnly: true });
    const a = await startAgent(yaml('gw-a', await freePort()));
    await waitFor('gw-a leader', () => a.isLeader, { timeoutMs: 10_000 });
    const b = await startAgent(yaml('gw-b', await freePort()));
    await waitFor('gw-b polling lan and standby on field', () => b.readings()['inv-1']?.status === 'ok' && b.readings()['bms-1']?.status === 'standby', { timeoutMs: 10_000 });
    await waitFor('gw-a polling both', () => a.readings()['bms-1']?.status === 'ok', { timeoutMs: 10_000 });
    expect(b.health().devices).toEqual({ 'inv-1': 'ok', 'bms-1': 'standby' });
    expect(b.health().status).toBe('ok'); // standby is the expected state of a follower, not a fault

    await a.close(); // releases the lock at once
    await waitFor('gw-b leader and polling the field bus', () => b.isLeader && b.readings()['bms-1']?.status === 'ok', { timeoutMs: 10_000 });
  });

  it('refuses a credentials file that group or others can read, before touching ZooKeeper', () => {
    // The agent reads zookeeper.auth.credentialsFile, once, and hands coordination the credentials.
    const open = nodePath.join(makeTempDir('agent-creds'), 'open.credentials');
    fs.writeFileSync(open, 'gridkeeper:agent-secret\n', { mode: 0o640 });
    fs.chmodSync(open, 0o640);
    const config = parseConfig(
      `site: agent-creds\nagent: { id: gw-a }\nzookeeper:\n  connect: "${suite.zk.connectString}"\n  auth: { credentialsFile: ${open} }\nhttp: { listen: false }\n`,
      'agent-creds.yaml',
    );
    const make = () => new Agent(config, { logger: silent, version: 'test' });
    expect(make).toThrow(CredentialsError);
    expect(make).toThrow(expect.objectContaining({ code: 'CREDENTIALS_INSECURE' }));
  });
});
