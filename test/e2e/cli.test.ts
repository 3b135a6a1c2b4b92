// `gridkeeper status` and `gridkeeper command` as an operator and a script use them, against a real
// site: two `gridkeeper run` agents, a simulator process, a real ZooKeeper. Also: the environment
// variable GRIDKEEPER_ZOOKEEPER in place of --zookeeper, and the exit codes (0, 1, 2).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SiteClient } from '../../src/coordination/site-client.js';
import { killAllChildren, REPO_ROOT } from '../../tools/devtools/processes.js';
import { waitFor } from '../../tools/devtools/wait.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { closeSiteClients, E2eSite, gridkeeper, openSiteClient, uniqueSiteName, type AgentProcess } from './harness.js';

let zk: ZkServer;
let site: E2eSite;
/** The site's tree as an operator's program sees it. */
let op: SiteClient;
let a: AgentProcess;
let tokenA: string;

beforeAll(async () => {
  zk = await startZooKeeper({ tickTimeMs: 200 });
  site = await E2eSite.start({ zkConnect: zk.connectString });
  op = await site.client();
  a = await site.startAgent('gw-a');
  tokenA = String((await a.leader()).token);
  const b = await site.startAgent('gw-b');
  await b.child.waitForJson((o) => o.msg === 'lock node created; queued for the site lock', 20_000);
  // Both agents have published readings of both devices.
  await waitFor(
    'readings of inv-1 and wt-1 from both agents',
    async () => {
      for (const id of ['gw-a', 'gw-b']) {
        const doc = await op.readings(id);
        const devices = (doc?.devices ?? {}) as Record<string, { status?: string }>;
        if (devices['inv-1']?.status !== 'ok' || devices['wt-1']?.status !== 'ok') return false;
      }
      return true;
    },
    { timeoutMs: 15_000 },
  );
});

afterAll(async () => {
  await killAllChildren();
  await closeSiteClients();
  await zk?.stop();
});

const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Environment without GRIDKEEPER_ZOOKEEPER, so that a test that wants it missing has it missing. */
const NO_ZK_ENV = { GRIDKEEPER_ZOOKEEPER: undefined };

describe('gridkeeper status', () => {
  // What the status shows besides agents and devices: one applied and one rejected command.
  beforeAll(async () => {
    const applied = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 64, issuedBy: 'e2e' });
    const rejected = await op.submit({ device: 'wt-1', point: 'curtailmentSetpoint', value: 3001, issuedBy: 'e2e' });
    await op.awaitResults([applied, rejected], 10_000);
    // Both agents poll inv-1 (status shows the freshest reading of either): their readings follow
    // the write within a poll (300 ms) and a publish interval (200 ms).
    await waitFor(
      'the new limit in the readings of both agents',
      async () => {
        for (const id of ['gw-a', 'gw-b']) {
          const devices = ((await op.readings(id))?.devices ?? {}) as Record<string, { values?: Record<string, unknown> }>;
          if (devices['inv-1']?.values?.activePowerLimit !== 64) return false;
        }
        return true;
      },
      { timeoutMs: 10_000 },
    );
  });

  it('--json: agents, lock holder and token, devices with values, recent results', async () => {
    const run = await gridkeeper(['status', '--zookeeper', zk.connectString, '--site', site.site, '--json'], { env: NO_ZK_ENV });
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as {
      site: string;
      agents: Array<{ agentId: string; document: Record<string, unknown> | null; readings: Record<string, unknown> | null }>;
      lock: { holder: string | null; node: string | null; token: string | null; since: string | null; waiters: string[] };
      devices: Record<string, { kind: string; status: string; readAt: string | null; values: Record<string, unknown>; error: unknown }>;
      pendingCommands: unknown[];
      recentResults: Array<{ id: string; result: Record<string, unknown> }>;
    };
    expect(view.site).toBe(site.site);
    expect(view.agents.map((x) => x.agentId)).toEqual(['gw-a', 'gw-b']);
    expect(view.agents[0]?.document).toMatchObject({ agentId: 'gw-a', site: site.site, pid: a.child.pid, leader: true, token: tokenA });
    expect(view.agents[1]?.document).toMatchObject({ agentId: 'gw-b', leader: false, token: null });
    expect(view.lock).toMatchObject({ holder: 'gw-a', token: tokenA, node: expect.stringMatching(/^lock-\d{10}$/), waiters: ['gw-b'] });
    expect(Date.parse(view.lock.since ?? '')).toBeLessThanOrEqual(Date.now());
    expect(view.devices['inv-1']).toMatchObject({ kind: 'inverter', status: 'ok', error: null });
    expect(view.devices['wt-1']).toMatchObject({ kind: 'turbine', status: 'ok', error: null });
    // Values as the frozen simulator serves them, including the limit set above.
    expect(view.devices['inv-1']?.values).toMatchObject({ activePowerLimit: 64, enabled: true, frequency: expect.any(Number) });
    expect(typeof view.devices['wt-1']?.values.windSpeed).toBe('number');
    expect(view.pendingCommands).toEqual([]);
    expect(view.recentResults.map((r) => r.result.status)).toEqual(['applied', 'rejected']);
    expect(view.recentResults[0]?.result).toMatchObject({ agentId: 'gw-a', token: tokenA, readBack: 64, command: { issuedBy: 'e2e' } });
    expect(view.recentResults[1]?.result).toMatchObject({ agentId: 'gw-a', token: tokenA, error: expect.stringMatching(/3001 is above max 3000/) });
  });

  it('the table for people: lock holder and token, agents with roles, devices with values, results', async () => {
    const run = await gridkeeper(['status', '--zookeeper', zk.connectString, '--site', site.site], { env: NO_ZK_ENV });
    expect(run.code, run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(new RegExp(`^site ${site.site} +\\(/gridkeeper/sites/${site.site}\\)$`, 'm'));
    expect(out).toMatch(new RegExp(`^lock held by gw-a since \\S+ \\(\\S+ ago\\), lock-\\d{10}, token ${tokenA}$`, 'm'));
    expect(out).toMatch(/^ {2}AGENT +ROLE +HOST +PID +VERSION +STARTED$/m);
    expect(out).toMatch(new RegExp(`^ {2}gw-a +leader +\\S+ +${a.child.pid} +${VERSION.replaceAll('.', '\\.')} +\\S+$`, 'm'));
    expect(out).toMatch(/^ {2}gw-b +standby /m);
    expect(out).toMatch(/^ {2}inv-1 +inverter +ok +\S+ ago +activePower=\S+ /m);
    expect(out).toMatch(/^ {2}wt-1 +turbine +ok +/m);
    expect(out).toMatch(/^PENDING COMMANDS \(0\)$/m);
    expect(out).toMatch(/^RECENT RESULTS \(2\)$/m);
    expect(out).toMatch(new RegExp(`^ {2}cmd-\\d{10} +applied +gw-a +${tokenA} +inv-1\\.activePowerLimit=64 +64$`, 'm'));
    expect(out).toMatch(/^ {2}cmd-\d{10} +rejected +gw-a +\d+ +wt-1\.curtailmentSetpoint=3001 +.*above max 3000/m);
  });
});

describe('gridkeeper command', () => {
  it('--json prints the result document with the command id, and exits 0 when applied', async () => {
    const run = await gridkeeper(
      ['command', '--zookeeper', zk.connectString, '--site', site.site, '--device', 'inv-1', '--point', 'activePowerLimit', '--value', '57', '--json'],
      { env: NO_ZK_ENV },
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      id: expect.stringMatching(/^cmd-\d{10}$/),
      status: 'applied',
      agentId: 'gw-a',
      lock: expect.stringMatching(/^lock-\d{10}$/),
      token: tokenA,
      readBack: 57,
      error: null,
      command: { device: 'inv-1', point: 'activePowerLimit', value: 57, issuedBy: expect.stringMatching(/^gridkeeper-cli:/) },
    });
    expect(Date.parse(String(out.finishedAt))).toBeGreaterThanOrEqual(Date.parse(String(out.startedAt)));
    // The same document is what ZooKeeper holds under results/.
    const { id, ...doc } = out;
    expect(await op.readJson(op.paths.result(String(id)))).toEqual(doc);
    expect(site.limitWrites().at(-1)?.percent).toBe(57);
  });

  it('reads the ZooKeeper address from GRIDKEEPER_ZOOKEEPER; a bool and a rejected value give exit 0 and 1', async () => {
    const env = { GRIDKEEPER_ZOOKEEPER: zk.connectString };
    const applied = await gridkeeper(['command', '--site', site.site, '--device', 'wt-1', '--point', 'running', '--value', 'false'], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^cmd-\d{10} applied: wt-1\.running = false by gw-a \(lock-\d{10}, token \d+\) in \d+ ms, read back false$/);
    const rejected = await gridkeeper(['command', '--site', site.site, '--device', 'wt-1', '--point', 'curtailmentSetpoint', '--value', '3001', '--json'], { env });
    expect(rejected.code).toBe(1);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ status: 'rejected', error: expect.stringMatching(/3001 is above max 3000/) });
  });

  it('--wait-ms: with no agent for the site, exits 1 after the wait and the command stays pending', async () => {
    const lonely = uniqueSiteName('noagent');
    const started = Date.now();
    const run = await gridkeeper(
      ['command', '--zookeeper', zk.connectString, '--site', lonely, '--device', 'inv-1', '--point', 'activePowerLimit', '--value', '10', '--wait-ms', '800'],
      { env: NO_ZK_ENV },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^gridkeeper command: cmd-0000000000: no result within 800 ms; the command stays queued/m);
    // It waited (at least the 800 ms) and gave up (well before the default 10 s).
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    expect(Date.now() - started).toBeLessThan(8000);
    const lonelyOp = await openSiteClient(zk.connectString, lonely);
    const commands = `/gridkeeper/sites/${lonely}/commands`;
    expect(await lonelyOp.children(commands)).toEqual(['cmd-0000000000']);
    expect((await lonelyOp.readJson(`${commands}/cmd-0000000000`)) ?? {}).toMatchObject({ device: 'inv-1', point: 'activePowerLimit', value: 10 });

    // --json says the same on stdout, with status null.
    const json = await gridkeeper(
      ['command', '--zookeeper', zk.connectString, '--site', lonely, '--device', 'inv-1', '--point', 'enabled', '--value', 'true', '--wait-ms', '300', '--json'],
      { env: NO_ZK_ENV },
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'cmd-0000000001', status: null, command: { device: 'inv-1', point: 'enabled', value: true } });

    // status shows both as pending, and nobody holding the lock.
    const status = await gridkeeper(['status', '--zookeeper', zk.connectString, '--site', lonely, '--json'], { env: NO_ZK_ENV });
    expect(status.code, status.stderr).toBe(0);
    const view = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(view).toMatchObject({ site: lonely, agents: [], lock: { holder: null, token: null }, recentResults: [] });
    expect(view.pendingCommands).toEqual([
      { id: 'cmd-0000000000', createdAt: expect.any(String), command: expect.objectContaining({ value: 10 }) },
      { id: 'cmd-0000000001', createdAt: expect.any(String), command: expect.objectContaining({ value: true }) },
    ]);
    const table = await gridkeeper(['status', '--site', lonely], { env: { GRIDKEEPER_ZOOKEEPER: zk.connectString } });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^lock: nobody holds it/m);
    expect(table.stdout).toMatch(/^PENDING COMMANDS \(2\)$/m);
    expect(table.stdout).toMatch(/^ {2}cmd-0000000000 +\S+ ago +\{"device":"inv-1","point":"activePowerLimit","value":10,/m);
  });
});

describe('usage errors', () => {
  // Each is refused by argument parsing, before any connection: exit 2 and a message on stderr.
  const cases: Array<{ what: string; args: string[]; message: RegExp }> = [
    { what: 'no verb', args: [], message: /usage: gridkeeper VERB/ },
    { what: 'unknown verb', args: ['restart'], message: /unknown verb 'restart'/ },
    { what: 'status without --site', args: ['status', '--zookeeper', '127.0.0.1:1'], message: /--site SITE is required/ },
    { what: 'status without --zookeeper or GRIDKEEPER_ZOOKEEPER', args: ['status', '--site', 'x'], message: /--zookeeper CONNECT is required \(or set GRIDKEEPER_ZOOKEEPER\)/ },
    { what: 'command without --device', args: ['command', '--zookeeper', '127.0.0.1:1', '--site', 'x', '--point', 'p', '--value', '1'], message: /--device is required/ },
    { what: 'command without --value', args: ['command', '--zookeeper', '127.0.0.1:1', '--site', 'x', '--device', 'd', '--point', 'p'], message: /--value is required/ },
    { what: 'command with a bad --wait-ms', args: ['command', '--zookeeper', '127.0.0.1:1', '--site', 'x', '--device', 'd', '--point', 'p', '--value', '1', '--wait-ms', 'soon'], message: /--wait-ms must be a whole number/ },
    { what: 'an unknown option', args: ['status', '--zookeeper', '127.0.0.1:1', '--site', 'x', '--colour'], message: /--colour/ },
    { what: 'run without --config', args: ['run'], message: /--config FILE is required/ },
  ];

  it('exit 2 with the reason on stderr, for every verb', async () => {
    const runs = await Promise.all(cases.map((c) => gridkeeper(c.args, { env: NO_ZK_ENV })));
    for (const [i, c] of cases.entries()) {
      const run = runs[i];
      expect(run?.code, `${c.what}: ${run?.stderr}`).toBe(2);
      expect(run?.stderr, c.what).toMatch(c.message);
      expect(run?.stdout, c.what).toBe('');
    }
  });

  it('a ZooKeeper nobody answers on is a runtime failure (exit 1), not a usage error', async () => {
    // Port 1 on loopback: connection refused. openSession gives up after its 10 s connect timeout.
    const run = await gridkeeper(['status', '--zookeeper', '127.0.0.1:1', '--site', 'x'], { env: NO_ZK_ENV, timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/could not connect to ZooKeeper at 127\.0\.0\.1:1 within 10000 ms/);
  });
});
