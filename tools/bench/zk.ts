// The bench's own ZooKeeper client work: a session, reading JSON documents, who holds the lock,
// submitting a command and waiting for its result (the operator's side of CONTRACT.md section 3).
import { pino } from 'pino';
import { isZkError } from '../../src/coordination/errors.js';
import { SitePaths, sortBySequence, systemClock, ZkSession } from '../../src/coordination/index.js';
import { sleep } from '../devtools/wait.js';

export const ROOT = '/gridkeeper';

export async function openSession(connect: string, sessionTimeoutMs = 10_000): Promise<ZkSession> {
  const session = new ZkSession({ connect, sessionTimeoutMs, nativeLogLevel: 0 }, { logger: pino({ level: 'silent' }), clock: systemClock });
  session.start();
  await session.whenConnected();
  return session;
}

export function sitePaths(site: string): SitePaths {
  return new SitePaths(ROOT, site);
}

/** The fields of a JSON object in a znode, or null when absent or not a JSON object. */
export async function readJson(session: ZkSession, path: string): Promise<Record<string, unknown> | null> {
  try {
    return parseObject((await session.get(path)).data);
  } catch (err) {
    if (isZkError(err, 'NONODE')) return null;
    throw err;
  }
}

export function parseObject(data: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(data.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : null;
  } catch {
    return null;
  }
}

/** Lock nodes, lowest sequence first, with the agent id each was created by. */
export async function lockQueue(session: ZkSession, paths: SitePaths): Promise<string[]> {
  let names: string[];
  try {
    names = await session.getChildren(paths.lock);
  } catch (err) {
    if (isZkError(err, 'NONODE')) return [];
    throw err;
  }
  const out: string[] = [];
  for (const { name } of sortBySequence(names, 'lock-')) {
    const doc = await readJson(session, paths.lockNode(name));
    out.push(typeof doc?.agentId === 'string' ? doc.agentId : '?');
  }
  return out;
}

/** Thrown by a probe of `until` to stop waiting at once (the awaited thing can no longer happen). */
export class WaitAborted extends Error {
  override readonly name = 'WaitAborted';
}

/** Polls `probe` every `intervalMs` until it returns non-null; throws naming `what` after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>, intervalMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null) return v;
    } catch (err) {
      if (err instanceof WaitAborted) throw err;
      last = err;
    }
    if (performance.now() > deadline) {
      throw new Error(`Timeout after ${timeoutMs}ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** Waits until `agentId` holds the site lock and says so in its agents/ document. */
export function untilLeader(session: ZkSession, paths: SitePaths, agentId: string, timeoutMs: number): Promise<true> {
  return until(`${agentId} to hold the lock of ${paths.siteId}`, timeoutMs, async () => {
    const doc = await readJson(session, paths.agent(agentId));
    return doc?.leader === true ? true : null;
  });
}

/** Creates commands/cmd-N and returns N's name (`cmd-0000000042`). */
export async function submitCommand(session: ZkSession, paths: SitePaths, command: Record<string, unknown>): Promise<string> {
  const created = await session.create(`${paths.commands}/cmd-`, Buffer.from(JSON.stringify(command)), 'persistent_sequential');
  return created.slice(created.lastIndexOf('/') + 1);
}

/** The result of command `name` as soon as it exists (an exists-watch on results/name, then get). */
export async function awaitResult(session: ZkSession, paths: SitePaths, name: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const path = paths.result(name);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    let fired: () => void = () => undefined;
    const changed = new Promise<void>((resolve) => (fired = resolve));
    const stat = await session.exists(path, () => fired());
    if (stat !== null) {
      const doc = await readJson(session, path);
      if (doc !== null) return doc;
    }
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`Timeout after ${timeoutMs}ms waiting for the result of ${name}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([changed, new Promise<void>((r) => (timer = setTimeout(r, Math.min(left, 1000))))]);
    clearTimeout(timer);
  }
}
