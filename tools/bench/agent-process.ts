// An agent (`gridkeeper run`) as a child process of the bench, its HTTP endpoint, its place in
// the site's tree, and the session timeout the server grants it.
import { pino } from 'pino';
import { connectSession } from '../../src/coordination/index.js';
import type { SiteClient } from '../../src/coordination/site-client.js';
import { spawnGridkeeper, type ChildHandle } from '../devtools/processes.js';
import { waitFor, WaitAbortedError } from '../devtools/wait.js';

export function startAgent(configFile: string, label: string): ChildHandle {
  // warn: the agent logs a line per state change at info; a bench run wants quiet children.
  return spawnGridkeeper(['run', '--config', configFile], { label, env: { LOG_LEVEL: 'warn' } });
}

export function pidOf(child: ChildHandle): number {
  if (child.pid === undefined || !child.isRunning()) throw new Error(`${child.label} is not running\n${child.tail()}`);
  return child.pid;
}

interface Healthz {
  status: string;
  zookeeper: string;
  devices: Record<string, string>;
}

export async function healthz(httpPort: number): Promise<Healthz> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(5000) });
  const body: unknown = await res.json();
  if (typeof body !== 'object' || body === null || !('devices' in body) || typeof body.devices !== 'object' || body.devices === null) {
    throw new Error(`/healthz answered ${JSON.stringify(body)}`);
  }
  const devices = Object.fromEntries(Object.entries(body.devices).map(([k, v]) => [k, String(v)]));
  const status = 'status' in body ? String(body.status) : '?';
  const zookeeper = 'zookeeper' in body ? String(body.zookeeper) : '?';
  return { status, zookeeper, devices };
}

/** Waits until every device of the agent has been polled successfully and ZooKeeper is connected. */
export function untilAllOk(child: ChildHandle, httpPort: number, deviceCount: number, timeoutMs: number): Promise<true> {
  return waitFor(
    `${child.label}: ${deviceCount} devices ok and ZooKeeper connected`,
    async () => {
      if (!child.isRunning()) throw new WaitAbortedError(`${child.label} exited\n${child.tail()}`);
      const h = await healthz(httpPort);
      const ok = Object.values(h.devices).filter((s) => s === 'ok').length;
      return ok === deviceCount && h.zookeeper === 'connected';
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Waits until `agentId` holds the site lock and says so in its agents/ document. */
export function untilLeader(client: SiteClient, agentId: string, timeoutMs: number): Promise<true> {
  return waitFor(`${agentId} to hold the lock of ${client.paths.siteId}`, async () => (await client.agent(agentId))?.leader === true, { timeoutMs });
}

/** Agent ids of the lock queue, holder first ('?' for a node that names none). */
export async function queuedAgents(client: SiteClient): Promise<string[]> {
  return (await client.lockQueue()).map((entry) => entry.agentId ?? '?');
}

/** Waits until the lock queue is exactly `ids`, holder first. */
export function untilQueued(client: SiteClient, ids: string[]): Promise<true> {
  return waitFor(
    `lock queue ${ids.join(', ')}`,
    async () => {
      const queue = await queuedAgents(client);
      return queue.length === ids.length && ids.every((id, k) => queue[k] === id);
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
}

/** What the server grants a session asking for `sessionTimeoutMs` (as an agent configured so does). */
export async function negotiatedTimeout(zookeeper: string, sessionTimeoutMs: number): Promise<number> {
  const s = await connectSession({ connect: zookeeper, sessionTimeoutMs, connectTimeoutMs: 30_000 }, { logger: pino({ level: 'silent' }) });
  try {
    return s.negotiatedTimeoutMs;
  } finally {
    await s.close();
  }
}
