import { isZkError } from '../coordination/errors.js';
import { SitePaths, sortBySequence } from '../coordination/paths.js';
import type { ZkSession } from '../coordination/session.js';

/** The site as ZooKeeper sees it, for `gridkeeper status` (also its --json shape). */
export interface SiteView {
  site: string;
  root: string;
  readAt: string;
  agents: AgentView[];
  lock: { holder: string | null; node: string | null; token: string | null; since: string | null; waiters: string[] };
  /** Per device: the freshest reading any agent published. */
  devices: Record<string, DeviceView>;
  pendingCommands: Array<{ id: string; createdAt: string; command: unknown }>;
  recentResults: Array<{ id: string; result: unknown }>;
}

export interface AgentView {
  agentId: string;
  /** The agent document as published, or null when it is not valid JSON. */
  document: Record<string, unknown> | null;
  readings: Record<string, unknown> | null;
}

export interface DeviceView {
  kind: unknown;
  status: unknown;
  readAt: string | null;
  values: Record<string, unknown>;
  error: unknown;
  publishedBy: string;
}

const RECENT_RESULTS = 10;

export async function readSiteView(session: ZkSession, root: string, site: string): Promise<SiteView> {
  const paths = new SitePaths(root, site);
  const agentIds = (await childrenOrEmpty(session, paths.agents)).sort();
  const agents: AgentView[] = [];
  for (const agentId of agentIds) {
    agents.push({
      agentId,
      document: await jsonOrNull(session, paths.agent(agentId)),
      readings: await jsonOrNull(session, paths.reading(agentId)),
    });
  }
  // Readings of agents whose agents/ node is gone (rare: between two writes) are still shown.
  for (const agentId of await childrenOrEmpty(session, paths.readings)) {
    if (!agentIds.includes(agentId)) agents.push({ agentId, document: null, readings: await jsonOrNull(session, paths.reading(agentId)) });
  }

  const lockNodes = sortBySequence(await childrenOrEmpty(session, paths.lock), 'lock-');
  const lock: SiteView['lock'] = { holder: null, node: null, token: null, since: null, waiters: [] };
  for (const [i, { name }] of lockNodes.entries()) {
    const node = await nodeOrNull(session, paths.lockNode(name));
    if (!node) continue;
    const owner = parseObject(node.data)?.agentId;
    const agentId = typeof owner === 'string' ? owner : '?';
    if (i === 0 || lock.node === null) {
      lock.holder = agentId;
      lock.node = name.slice(name.lastIndexOf('lock-'));
      lock.token = String(node.stat.czxid);
      lock.since = new Date(node.stat.ctimeMs).toISOString();
    } else {
      lock.waiters.push(agentId);
    }
  }

  const devices: Record<string, DeviceView> = {};
  for (const agent of agents) {
    const byDevice = agent.readings?.devices;
    if (typeof byDevice !== 'object' || byDevice === null) continue;
    for (const [id, raw] of Object.entries(byDevice as Record<string, unknown>)) {
      if (typeof raw !== 'object' || raw === null) continue;
      const r = raw as Record<string, unknown>;
      const candidate: DeviceView = {
        kind: r.kind,
        status: r.status,
        readAt: typeof r.readAt === 'string' ? r.readAt : null,
        values: typeof r.values === 'object' && r.values !== null ? (r.values as Record<string, unknown>) : {},
        error: r.error ?? null,
        publishedBy: agent.agentId,
      };
      const current = devices[id];
      if (current === undefined || (candidate.readAt ?? '') > (current.readAt ?? '')) devices[id] = candidate;
    }
  }

  const pendingCommands: SiteView['pendingCommands'] = [];
  for (const { name } of sortBySequence(await childrenOrEmpty(session, paths.commands), 'cmd-')) {
    const node = await nodeOrNull(session, paths.command(name));
    if (!node) continue;
    pendingCommands.push({ id: name, createdAt: new Date(node.stat.ctimeMs).toISOString(), command: parseObject(node.data) ?? node.data.toString('utf8') });
  }

  const resultNames = sortBySequence(await childrenOrEmpty(session, paths.results), 'cmd-').slice(-RECENT_RESULTS);
  const recentResults: SiteView['recentResults'] = [];
  for (const { name } of resultNames) {
    const node = await nodeOrNull(session, paths.result(name));
    if (node) recentResults.push({ id: name, result: parseObject(node.data) ?? node.data.toString('utf8') });
  }

  return { site, root: paths.root, readAt: new Date().toISOString(), agents, lock, devices, pendingCommands, recentResults };
}

async function childrenOrEmpty(session: ZkSession, path: string): Promise<string[]> {
  try {
    return await session.getChildren(path);
  } catch (err) {
    if (isZkError(err, 'NONODE')) return [];
    throw err;
  }
}

async function nodeOrNull(session: ZkSession, path: string): Promise<Awaited<ReturnType<ZkSession['get']>> | null> {
  try {
    return await session.get(path);
  } catch (err) {
    if (isZkError(err, 'NONODE')) return null; // deleted between the listing and the read
    throw err;
  }
}

async function jsonOrNull(session: ZkSession, path: string): Promise<Record<string, unknown> | null> {
  const node = await nodeOrNull(session, path);
  return node ? parseObject(node.data) : null;
}

/** A JSON object, or null for anything else (bad data from ZooKeeper is shown, never fatal). */
export function parseObject(data: Buffer): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(data.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
