// SIGHUP (`systemctl reload`) to the BUILT agent (`gridkeeper run`), a real process, against a real
// ZooKeeper and the simulator in this process (its faults are switched from here: a slow device).
// What is checked is what an operator sees: the agent's JSON log lines, the tree through the
// operator's client (agent document, readings, lock, results), the writes the devices received, and
// the datagrams on a real NOTIFY_SOCKET.
//
// The site: inv-1 and wt-1 on bus lan; the simulator also serves bms-1 on bus field, which the agent
// gets only by a reload.
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { SiteClient } from '../../src/coordination/site-client.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { freePort, GRIDKEEPER_BIN, killAllChildren, spawnChild } from '../../tools/devtools/processes.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { NotifyListener } from '../helpers/notify-listener.js';
import { agentProcess, closeSiteClients, gridkeeper, LIMIT_REGISTER, logLines, openSiteClient, ROOT, uniqueSiteName, type AgentProcess } from './harness.js';

const SESSION_TIMEOUT_MS = 4000;
const dir = makeTempDir('reload-e2e');
let zk: ZkServer;
let sim: SimulatedSite;
let lanPort: number;
let fieldPort: number;

/** What a test varies in the agent's site file. */
interface SiteFile {
  site: string;
  httpPort: number;
  root?: string;
  sessionTimeoutMs?: number;
  publishMs?: number;
  lanTimeoutMs?: number;
  /** bus field and bms-1 on it. */
  withBms?: boolean;
  /** inv-1's frequency read as the raw register (centihertz, scale 1) instead of Hz. */
  rawFrequency?: boolean;
}

function siteDoc(f: SiteFile): Record<string, unknown> {
  const inverter: Record<string, unknown> = { id: 'inv-1', kind: 'inverter', bus: 'lan', unitId: 1, profile: 'generic-inverter', pollIntervalMs: 300 };
  if (f.rawFrequency === true) inverter.points = [{ name: 'frequency', table: 'input', address: 14, type: 'uint16', scale: 1, unit: 'cHz' }];
  const buses: Record<string, unknown>[] = [{ id: 'lan', type: 'tcp', host: '127.0.0.1', port: lanPort, timeoutMs: f.lanTimeoutMs ?? 1000 }];
  const devices: Record<string, unknown>[] = [inverter, { id: 'wt-1', kind: 'turbine', bus: 'lan', unitId: 2, profile: 'generic-turbine', pollIntervalMs: 300 }];
  if (f.withBms === true) {
    buses.push({ id: 'field', type: 'tcp', host: '127.0.0.1', port: fieldPort, timeoutMs: 500 });
    devices.push({ id: 'bms-1', kind: 'bms', bus: 'field', unitId: 3, profile: 'generic-bms', pollIntervalMs: 300 });
  }
  return {
    site: f.site,
    agent: { id: 'gw-a' },
    zookeeper: { connect: zk.connectString, root: f.root ?? ROOT, sessionTimeoutMs: f.sessionTimeoutMs ?? SESSION_TIMEOUT_MS },
    publish: { intervalMs: f.publishMs ?? 200 },
    control: { verifyWrites: true },
    http: { listen: `127.0.0.1:${f.httpPort}` },
    log: { level: 'info' },
    buses,
    devices,
  };
}

beforeAll(async () => {
  zk = await startZooKeeper();
  [lanPort, fieldPort] = [await freePort(), await freePort()];
  const doc = siteDoc({ site: 'simulator', httpPort: 1, withBms: true });
  sim = new SimulatedSite(parseConfig(stringify(doc), 'simulator.yaml'), { logger: pino({ level: 'silent' }), ...frozenOptions() });
  await sim.start();
});

afterAll(async () => {
  await killAllChildren();
  await closeSiteClients();
  await sim?.close();
  await zk?.stop();
});

/** A running agent of its own site, its site file (rewrite it with `write`), and the operator's client. */
interface Running {
  agent: AgentProcess;
  file: string;
  base: SiteFile;
  op: SiteClient;
  write(changes: Partial<SiteFile>): void;
  /** SIGHUP, then the log line that ends the reload (`site file reloaded` or `reload refused: ...`). */
  reload(): Promise<Record<string, unknown>>;
}

async function startSite(prefix: string, env: Record<string, string> = {}): Promise<Running> {
  const base: SiteFile = { site: uniqueSiteName(prefix), httpPort: await freePort() };
  const file = path.join(dir, `${base.site}.yaml`);
  const write = (changes: Partial<SiteFile>): void => fs.writeFileSync(file, stringify(siteDoc({ ...base, ...changes })));
  write({});
  const child = spawnChild(process.execPath, [GRIDKEEPER_BIN, 'run', '--config', file], { label: `agent gw-a (${base.site})`, env: { LOG_LEVEL: 'info', ...env } });
  const agent = agentProcess('gw-a', child, file, base.httpPort);
  await agent.leader();
  const op = await openSiteClient(zk.connectString, base.site);
  // The agent document says leader a publish interval after the lock is taken: wait for it too, so
  // that the "before" of a test is the settled state (on a loaded machine the readings came first).
  await waitFor('both devices ok in the readings, and the agent document saying leader', async () => {
    const devices = ((await op.readings('gw-a'))?.devices ?? {}) as Record<string, { status: string }>;
    const leading = (await op.agent('gw-a'))?.leader === true;
    return leading && devices['inv-1']?.status === 'ok' && devices['wt-1']?.status === 'ok' ? true : undefined;
  }, { timeoutMs: 15_000 });
  const reload = async (): Promise<Record<string, unknown>> => {
    const from = child.lines.length;
    child.kill('SIGHUP');
    const ends = (msg: unknown): boolean => typeof msg === 'string' && (msg === 'site file reloaded' || msg === 'reload failed' || msg.startsWith('reload refused'));
    return child.waitForJson((o) => ends(o.msg), 20_000, { from });
  };
  return { agent, file, base, op, write, reload };
}

/** sessionId, leader and token of the agent document: what must survive a reload. */
async function sessionOf(op: SiteClient): Promise<{ sessionId: unknown; leader: unknown; token: unknown }> {
  const doc = await op.agent('gw-a');
  return { sessionId: doc?.sessionId, leader: doc?.leader, token: doc?.token };
}

describe('SIGHUP re-reads the site file', () => {
  it('a bad file changes nothing: its problems are logged as validate prints them, one line each; session and lock stay', { timeout: 90_000 }, async () => {
    const s = await startSite('reload-bad');
    const before = await sessionOf(s.op);
    expect(before.leader).toBe(true);

    // Two problems: a bus timeout over sessionTimeoutMs / 4, a misspelt key.
    const doc = siteDoc({ ...s.base, lanTimeoutMs: 2000, publishMs: 1000 });
    (doc.publish as Record<string, unknown>).intervalMS = 1000;
    fs.writeFileSync(s.file, stringify(doc));
    const validate = await gridkeeper(['validate', '--config', s.file]);
    expect(validate.code).toBe(78);
    const expected = validate.stderr.trim().split('\n');
    expect(expected).toHaveLength(2);

    const end = await s.reload();
    expect(end.msg).toBe('reload refused: the site file has problems (above); nothing changed');
    const problems = s.agent.child.lines.filter((l) => l.includes('"problem":')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(problems.map((p) => p.msg)).toEqual(expected);
    expect(problems.every((p) => p.level === 50)).toBe(true);

    expect(s.agent.child.isRunning()).toBe(true);
    expect(await sessionOf(s.op)).toEqual(before);
    expect((await s.agent.health()).body).toMatchObject({ leader: true, devices: { 'inv-1': 'ok', 'wt-1': 'ok' } });
    expect(logLines(s.agent.child, 'site file reloaded')).toHaveLength(0);
  });

  it('a good file adds a bus and a device, changes a point and the publish interval, on the same session and lock', { timeout: 90_000 }, async () => {
    const s = await startSite('reload-good');
    const before = await sessionOf(s.op);
    const lockBefore = await s.op.lockQueue();
    expect(lockBefore).toHaveLength(1);
    const hzBefore = await frequencyOf(s.op);
    expect(hzBefore).toBeGreaterThan(40);
    expect(hzBefore).toBeLessThan(70);

    s.write({ withBms: true, rawFrequency: true, publishMs: 1000 });
    const end = await s.reload();
    expect(end).toMatchObject({
      msg: 'site file reloaded',
      applied: ['publish.intervalMs'],
      buses: { added: ['field'], changed: [], removed: [] },
      devices: { added: ['bms-1'], rebuilt: ['inv-1'], removed: [] },
      restartKeys: [],
    });

    // The new device appears with its values; the changed point is read as configured now (cHz).
    const bms = await waitFor('bms-1 read and published', async () => {
      const devices = ((await s.op.readings('gw-a'))?.devices ?? {}) as Record<string, { status: string; values: Record<string, unknown> }>;
      return devices['bms-1']?.status === 'ok' ? devices['bms-1'] : undefined;
    }, { timeoutMs: 15_000 });
    expect(typeof bms.values.stateOfCharge).toBe('number');
    const raw = await waitFor('frequency in cHz', async () => {
      const f = await frequencyOf(s.op);
      return f !== null && f > 1000 ? f : undefined;
    }, { timeoutMs: 15_000 });
    expect(raw).toBeCloseTo((hzBefore ?? 0) * 100, 0);

    // One snapshot per second now, with a value that changes all the time (the frozen simulator's
    // values do not: wt-1's wind speed is moved by the test every 50 ms).
    const seqs = await whileWindChanges(() => snapshotsDuring(s.op, 3500));
    expect(seqs.length).toBeGreaterThanOrEqual(2);
    expect(seqs.length).toBeLessThanOrEqual(5);
    const gaps = seqs.slice(1).map((x, i) => x.publishedAtMs - (seqs[i]?.publishedAtMs ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThan(800);

    // Same session, same lock node and token: no handover.
    expect(await sessionOf(s.op)).toEqual(before);
    expect(await s.op.lockQueue()).toEqual(lockBefore);
    expect(logLines(s.agent.child, 'not holding the site lock: standby')).toHaveLength(0);
    expect(logLines(s.agent.child, 'site lock acquired: leader')).toHaveLength(1);
  });

  it('a zookeeper.* change is logged as needing a restart; the session stays and the rest is applied', { timeout: 90_000 }, async () => {
    const s = await startSite('reload-zk');
    const before = await sessionOf(s.op);
    s.write({ root: '/elsewhere', sessionTimeoutMs: 6000, publishMs: 500 });
    const end = await s.reload();
    expect(end).toMatchObject({ msg: 'site file reloaded', applied: ['publish.intervalMs'], restartKeys: ['zookeeper.root', 'zookeeper.sessionTimeoutMs'] });
    const warn = s.agent.child.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => Array.isArray(l.keys));
    expect(warn).toMatchObject({ level: 40, keys: ['zookeeper.root', 'zookeeper.sessionTimeoutMs'] });
    expect(String(warn?.msg)).toMatch(/need a restart .*: zookeeper\.root, zookeeper\.sessionTimeoutMs/);
    await sleep(1000);
    expect(await sessionOf(s.op)).toEqual(before);
    expect((await s.agent.health()).body).toMatchObject({ zookeeper: 'connected', leader: true });
  });

  it('a command in flight finishes first: the reload waits for its write and read-back, then swaps the bus', { timeout: 90_000 }, async () => {
    const s = await startSite('reload-inflight');
    const inv = sim.device('inv-1');
    const limitWrites = (): number => inv.writes.filter((w) => w.address === LIMIT_REGISTER && w.values[0] === 420).length;
    // inv-1 answers 800 ms late (the bus timeout is 1000 ms): the write is on the wire when SIGHUP comes.
    inv.faults.delayMs = 800;
    const id = await s.op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'reload-test' });
    await waitFor('the write reached the device', () => (limitWrites() > 0 ? true : undefined), { timeoutMs: 15_000, intervalMs: 5 });
    inv.faults.delayMs = 0; // its answer is already on its way, 800 ms late; the read-back is prompt
    s.write({ lanTimeoutMs: 900 }); // bus lan changes: closed and opened again, inv-1 and wt-1 rebuilt
    const end = await s.reload();

    expect(end).toMatchObject({ msg: 'site file reloaded', buses: { changed: ['lan'] }, devices: { rebuilt: ['inv-1', 'wt-1'] } });
    const waited = logLines(s.agent.child, 'reload waits for the command write in flight');
    expect(waited).toHaveLength(1);
    const result = await s.op.awaitResult(id, 10_000);
    expect(result).toMatchObject({ status: 'applied', readBack: 42, error: null });
    expect(limitWrites()).toBe(1);
    await waitFor('both devices read again', async () => {
      const body = (await s.agent.health()).body;
      return body.leader === true && Object.values(body.devices as object).every((d) => d === 'ok') ? true : undefined;
    }, { timeoutMs: 10_000 });
  });

  it('tells systemd RELOADING=1 (with MONOTONIC_USEC) and then READY=1, for a good file and for a bad one', { timeout: 90_000 }, async () => {
    const listener = NotifyListener.open();
    try {
      const s = await startSite('reload-notify', { NOTIFY_SOCKET: listener.path });
      await listener.waitFor('READY=1', (m) => m.fields.get('READY') === '1', 20_000);
      for (const bad of [false, true]) {
        if (bad) fs.writeFileSync(s.file, 'site: [not, a, name]\n');
        else s.write({ publishMs: 400 });
        const from = listener.messages.length;
        await s.reload();
        const reloading = await listener.waitFor('RELOADING=1', (m) => m.fields.get('RELOADING') === '1', 5000, from);
        const ready = await listener.waitFor('READY=1 after it', (m) => m.fields.get('READY') === '1', 5000, from);
        expect(listener.messages.indexOf(ready)).toBeGreaterThan(listener.messages.indexOf(reloading));
        // CLOCK_MONOTONIC in µs: within a minute of this process's (the same clock on Linux).
        const usec = BigInt(reloading.fields.get('MONOTONIC_USEC') ?? '0');
        const nowUsec = process.hrtime.bigint() / 1000n;
        expect(nowUsec - usec).toBeGreaterThanOrEqual(0n);
        expect(nowUsec - usec).toBeLessThan(60_000_000n);
      }
      expect(s.agent.child.isRunning()).toBe(true);
    } finally {
      listener.close();
    }
  });
});

/** Runs `during` while wt-1's wind speed rises by 0.1 m/s every 50 ms: past any deadband between two polls. */
async function whileWindChanges<T>(during: () => Promise<T>): Promise<T> {
  const wt = sim.device('wt-1');
  let n = 0;
  const timer = setInterval(() => wt.setValue('windSpeed', 5 + 0.1 * n++), 50);
  try {
    return await during();
  } finally {
    clearInterval(timer);
  }
}

/** inv-1's frequency in the published readings (null before there is one). */
async function frequencyOf(op: SiteClient): Promise<number | null> {
  const devices = ((await op.readings('gw-a'))?.devices ?? {}) as Record<string, { values?: Record<string, unknown> }>;
  const f = devices['inv-1']?.values?.frequency;
  return typeof f === 'number' ? f : null;
}

/** The readings snapshots written during `ms` (read every 50 ms), by seq: one entry per snapshot seen. */
async function snapshotsDuring(op: SiteClient, ms: number): Promise<Array<{ seq: number; publishedAtMs: number }>> {
  const seen = new Map<number, number>();
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const doc = await op.readings('gw-a');
    if (typeof doc?.seq === 'number' && typeof doc.publishedAt === 'string') seen.set(doc.seq, Date.parse(doc.publishedAt));
    await sleep(50);
  }
  return [...seen].map(([seq, publishedAtMs]) => ({ seq, publishedAtMs })).sort((a, b) => a.seq - b.seq);
}
