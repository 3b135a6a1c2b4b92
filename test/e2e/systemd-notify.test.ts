// The BUILT agent (`gridkeeper run`) as systemd runs a Type=notify service with WatchdogSec=: a
// real unix datagram socket of the test stands for systemd's $NOTIFY_SOCKET, the environment is
// what systemd sets (WATCHDOG_USEC, and WATCHDOG_PID = the agent's own pid, set by a shell that
// then execs the agent, as systemd sets it between fork and exec), against a real ZooKeeper and
// the simulator in this process.
//
// The stall is a real cause from outside, the one GET /healthz reports as 503: a device that
// answers 6 s late (the bus timeout is 7 s, so the read does not fail) keeps its poll in flight,
// its scheduler skips every tick meanwhile, and after 3 intervals + 2 s the poll loop counts as
// stalled. The event loop keeps running (the 503s prove it), so missing pings can only come from
// the health check, not from a frozen process.
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { freePort, GRIDKEEPER_BIN, killAllChildren, spawnChild, type ChildHandle } from '../../tools/devtools/processes.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { NotifyListener } from '../helpers/notify-listener.js';
import { agentProcess, logLines, uniqueSiteName, type AgentProcess } from './harness.js';

/** WATCHDOG_USEC of the agent under test: 2 s, so a ping every second. */
const WATCHDOG_MS = 2000;
const POLL_INTERVAL_MS = 200;
/** 7 s bus timeout: a 6 s late answer is slow, not failed. It needs sessionTimeoutMs >= 4 * 7 s. */
const BUS_TIMEOUT_MS = 7000;
const LATE_ANSWER_MS = 6000;

const dir = makeTempDir('notify-e2e');
const site = uniqueSiteName('notify');
let zk: ZkServer;
let sim: SimulatedSite;
let modbusPort: number;

beforeAll(async () => {
  zk = await startZooKeeper();
  modbusPort = await freePort();
  sim = new SimulatedSite(parseConfig(stringify(siteDoc('simulator', false)), 'simulator.yaml'), { logger: pino({ level: 'silent' }), ...frozenOptions() });
  await sim.start();
});

afterAll(async () => {
  await killAllChildren();
  await sim?.close();
  await zk?.stop();
});

function siteDoc(agentId: string, httpPort: number | false): Record<string, unknown> {
  return {
    site,
    agent: { id: agentId },
    zookeeper: { connect: zk.connectString, sessionTimeoutMs: 4 * BUS_TIMEOUT_MS },
    publish: { intervalMs: 500 },
    http: { listen: httpPort === false ? false : `127.0.0.1:${httpPort}` },
    log: { level: 'info' },
    buses: [{ id: 'lan', type: 'tcp', host: '127.0.0.1', port: modbusPort, timeoutMs: BUS_TIMEOUT_MS }],
    devices: [
      { id: 'inv-1', kind: 'inverter', bus: 'lan', unitId: 1, profile: 'generic-inverter', pollIntervalMs: POLL_INTERVAL_MS },
      { id: 'wt-1', kind: 'turbine', bus: 'lan', unitId: 2, profile: 'generic-turbine', pollIntervalMs: POLL_INTERVAL_MS },
    ],
  };
}

/** `gridkeeper run` with `env` added; through `sh -c 'export WATCHDOG_PID=$$; exec ...'` when `watchdogPid`. */
async function startAgent(agentId: string, env: Record<string, string | undefined>, watchdogPid: boolean): Promise<AgentProcess> {
  const httpPort = await freePort();
  const configFile = path.join(dir, `${agentId}.yaml`);
  const text = stringify(siteDoc(agentId, httpPort));
  parseConfig(text, configFile); // a broken test config fails here, naming the problem
  fs.writeFileSync(configFile, text);
  const run = [process.execPath, GRIDKEEPER_BIN, 'run', '--config', configFile];
  const label = `agent ${agentId} (${site})`;
  const child: ChildHandle = watchdogPid
    ? spawnChild('sh', ['-c', 'export WATCHDOG_PID=$$; exec "$@"', 'sh', ...run], { label, env })
    : spawnChild(run[0] ?? process.execPath, run.slice(1), { label, env });
  return agentProcess(agentId, child, configFile, httpPort);
}

/** /healthz's HTTP status, sampled every 100 ms by the test: `atMs` is performance.now() on arrival. */
interface HealthSample {
  atMs: number;
  httpStatus: number;
}

describe('gridkeeper run under systemd (Type=notify, WatchdogSec=)', () => {
  it('says READY once started, keeps STATUS current, pings at half WATCHDOG_USEC, withholds the pings while /healthz is 503, resumes, and says STOPPING on SIGTERM', { timeout: 120_000 }, async () => {
    const listener = NotifyListener.open();
    try {
      const agent = await startAgent('gw-a', { NOTIFY_SOCKET: listener.path, WATCHDOG_USEC: String(WATCHDOG_MS * 1000), LOG_LEVEL: 'info' }, true);

      // READY=1 is the first datagram, with a STATUS, and comes after start(): buses and pollers
      // started and HTTP listening (it is started last), so /healthz answers at once.
      const ready = await listener.waitFor('READY=1', (m) => m.fields.get('READY') === '1', 20_000);
      const atReady = await agent.health();
      expect(listener.messages[0]).toBe(ready);
      expect(ready.fields.get('STATUS')).toMatch(/^(leader|standby), devices up \d\/2, ZooKeeper (connecting|connected)$/);
      expect(atReady.httpStatus).toBe(200);
      expect(Object.keys(atReady.body.devices as object)).toEqual(['inv-1', 'wt-1']);
      // The notifier's one socket (the check the plain run below relies on finds it).
      expect(unixDatagramSockets(agent.child.pid ?? 0)).toBe(1);

      await listener.waitFor('STATUS of the leader with both devices up', (m) => m.fields.get('STATUS') === 'leader, devices up 2/2, ZooKeeper connected', 20_000);

      // Rate: half of WATCHDOG_USEC is a ping every 1000 ms. The median gap over 5 s must be within
      // 700..1500 ms: timers fire late on two shared cores (and this process reads them late), and
      // the bounds still tell the right rate from a ping per poll tick (200 ms) or per full
      // WATCHDOG_USEC (2000 ms, too late for systemd).
      const rateFrom = performance.now();
      await sleep(5000);
      const steady = listener.pings().filter((t) => t > rateFrom);
      expect(steady.length).toBeGreaterThanOrEqual(3);
      expect(steady.length).toBeLessThanOrEqual(7);
      const gaps = steady.slice(1).map((t, i) => t - (steady[i] ?? t));
      expect(median(gaps)).toBeGreaterThan(700);
      expect(median(gaps)).toBeLessThan(1500);

      // Stall: inv-1 answers 6 s late. Sample /healthz until it has been 503 and is 200 again.
      const samples: HealthSample[] = [];
      const sample = async (): Promise<number> => {
        const { httpStatus } = await agent.health();
        samples.push({ atMs: performance.now(), httpStatus });
        return httpStatus;
      };
      sim.device('inv-1').faults.delayMs = LATE_ANSWER_MS;
      await waitFor('/healthz 503 (poll loop stalled)', async () => (await sample()) === 503, { timeoutMs: 20_000, intervalMs: 100 });
      // The late answer in flight keeps the poll loop stalled until it arrives; later reads are prompt.
      sim.device('inv-1').faults.delayMs = 0;
      await waitFor('/healthz 200 again', async () => (await sample()) === 200, { timeoutMs: 20_000, intervalMs: 100 });

      // The run of 503s: from the first to the last before 200 again, sampled without a gap in
      // which a fresh tick could have made it healthy and stalled again (that takes 2.6 s).
      const first = samples.findIndex((s) => s.httpStatus === 503);
      const run = samples.slice(first, -1);
      expect(run.every((s) => s.httpStatus === 503)).toBe(true);
      for (let i = 1; i < run.length; i++) expect((run[i]?.atMs ?? 0) - (run[i - 1]?.atMs ?? 0)).toBeLessThan(2000);
      const stallFrom = run[0]?.atMs ?? NaN;
      const stallTo = run[run.length - 1]?.atMs ?? NaN;
      // At least two ping intervals long, or the assertion below would prove little.
      expect(stallTo - stallFrom).toBeGreaterThan(2 * (WATCHDOG_MS / 2));
      // No ping while /healthz said 503. 500 ms of slack at the start: a ping sent just before the
      // loop counted as stalled may be read late by this busy process.
      expect(listener.pings().filter((t) => t > stallFrom + 500 && t < stallTo)).toEqual([]);
      expect(listener.withField('STATUS').some((m) => m.fields.get('STATUS')?.startsWith('poll loop stalled, '))).toBe(true);
      expect(logLines(agent.child, 'poll loop stalled: withholding watchdog pings')).toHaveLength(1);

      // Pings resume at the usual rate, and the STATUS says so.
      const healthyAt = samples[samples.length - 1]?.atMs ?? NaN;
      await waitFor('2 pings after /healthz is 200 again', () => listener.pings().filter((t) => t > healthyAt).length >= 2, { timeoutMs: 5000 });
      await listener.waitFor('STATUS healthy again', (m) => m.atMs > stallTo && m.fields.get('STATUS') === 'leader, devices up 2/2, ZooKeeper connected', 5000);
      expect(logLines(agent.child, 'poll loop running again: watchdog pings resumed')).toHaveLength(1);

      // STATUS only on change: never the same line twice in a row.
      const statuses = listener.withField('STATUS').map((m) => m.fields.get('STATUS'));
      for (let i = 1; i < statuses.length; i++) expect(statuses[i], `STATUS lines ${JSON.stringify(statuses)}`).not.toBe(statuses[i - 1]);

      // SIGTERM: STOPPING=1 before the shutdown, exit 0, nothing after it.
      const before = listener.messages.length;
      agent.child.kill('SIGTERM');
      const stopping = await listener.waitFor('STOPPING=1', (m) => m.fields.get('STOPPING') === '1', 5000, before);
      expect((await agent.child.exited).code).toBe(0);
      expect(listener.messages[listener.messages.length - 1]).toBe(stopping);
    } finally {
      listener.close();
    }
  });

  it('sends nothing and logs nothing about systemd without NOTIFY_SOCKET (a plain run), watchdog variables or not', { timeout: 60_000 }, async () => {
    const agent = await startAgent('gw-b', { NOTIFY_SOCKET: undefined, WATCHDOG_USEC: String(WATCHDOG_MS * 1000), WATCHDOG_PID: undefined, LOG_LEVEL: 'debug' }, false);
    await agent.child.waitForJson((o) => o.msg === 'agent started', 20_000);
    await waitFor('both devices ok', async () => {
      const devices = (await agent.health()).body.devices as Record<string, string>;
      return devices['inv-1'] === 'ok' && devices['wt-1'] === 'ok';
    }, { timeoutMs: 15_000 });
    await sleep(2 * WATCHDOG_MS);
    // Nothing could have been sent: no datagram socket at all.
    expect(unixDatagramSockets(agent.child.pid ?? 0)).toBe(0);
    expect((await agent.child.stop()).code).toBe(0);
    const systemdLines = agent.child.lines.filter((l) => l.includes('"component":"systemd"'));
    expect(systemdLines).toEqual([]);
    expect(agent.child.stderr()).toBe('');
  });
});

/**
 * AF_UNIX datagram sockets the process `pid` has open: its fds that are sockets, looked up in
 * /proc/net/unix (Type 0002 = SOCK_DGRAM). Node itself opens none; the notifier opens one.
 */
function unixDatagramSockets(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined) inodes.add(inode);
    } catch {
      // closed while we looked
    }
  }
  const rows = fs.readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1).map((l) => l.trim().split(/\s+/));
  return rows.filter((cols) => cols[4] === '0002' && inodes.has(cols[6] ?? '')).length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
