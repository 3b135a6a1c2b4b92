// The site as ZooKeeper sees it, in one document: what `gridkeeper status` prints (as a table, or
// as this document with --json). Read through a SiteClient; shows whatever is there, valid or not.
import { systemClock, type Clock } from '../clock.js';
import { objectOrText } from './documents.js';
import { fallbackTimers, type FallbackTimerView } from './fallback-view.js';
import { join } from './paths.js';
import type { PendingCommand, SiteClient } from './site-client.js';

export interface SiteView {
  site: string;
  root: string;
  readAt: string;
  agents: AgentView[];
  /** Agents that found their id held by another live agent (conflicts/, agent-conflict.ts). */
  conflicts: ConflictView[];
  lock: { holder: string | null; node: string | null; token: string | null; since: string | null; waiters: string[] };
  /** Per device: the freshest reading any agent published. */
  devices: Record<string, DeviceView>;
  pendingCommands: PendingCommand[];
  /** The last RECENT_RESULTS results, oldest first, each as written (raw text when no JSON object). */
  recentResults: Array<{ id: string; result: Record<string, unknown> | string }>;
  /** Held setpoints (CONTRACT.md section 7), by node name `<device>.<point>`, each as written; [] while setpoints/ is absent. */
  setpoints: Array<{ id: string; setpoint: Record<string, unknown> | string }>;
  /** Per device with a fallback timer kept by the lock holder: when it would fall back if nobody refreshed it (fallback-view.ts). */
  fallbacks: Record<string, FallbackTimerView>;
}

export interface AgentView {
  agentId: string;
  /** The agent document as published, or null when it is not valid JSON. */
  document: Record<string, unknown> | null;
  readings: Record<string, unknown> | null;
}

export interface ConflictView {
  /** `<agentId>@<host>:<pid>`. */
  node: string;
  /** {agentId, host, pid, since, conflictsWith: {host, pid, sessionId}}, or null when no JSON object. */
  document: Record<string, unknown> | null;
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
/** Shown for a lock node whose data names no agent. */
const UNKNOWN_AGENT = '?';

/** `clock` stamps `readAt` (an agent's page: its corrected clock, as its readings' times). */
export async function readSiteView(client: SiteClient, clock: Pick<Clock, 'nowMs'> = systemClock): Promise<SiteView> {
  const { paths } = client;
  const agentIds = await client.agents();
  const agents: AgentView[] = [];
  for (const agentId of agentIds) {
    agents.push({ agentId, document: await client.agent(agentId), readings: await client.readings(agentId) });
  }
  // Readings of agents whose agents/ node is gone (rare: between two writes) are still shown.
  for (const agentId of await client.children(paths.readings)) {
    if (!agentIds.includes(agentId)) agents.push({ agentId, document: null, readings: await client.readings(agentId) });
  }

  const conflicts: ConflictView[] = [];
  for (const node of await client.children(paths.conflicts)) {
    conflicts.push({ node, document: await client.readJson(join(paths.conflicts, node)) });
  }

  const [holder, ...waiters] = await client.lockQueue();
  const lock: SiteView['lock'] =
    holder === undefined
      ? { holder: null, node: null, token: null, since: null, waiters: [] }
      : {
          holder: holder.agentId ?? UNKNOWN_AGENT,
          node: holder.lock,
          token: holder.token,
          since: holder.since,
          waiters: waiters.map((w) => w.agentId ?? UNKNOWN_AGENT),
        };

  const pendingCommands = await client.pendingCommands();
  const recentResults: SiteView['recentResults'] = [];
  for (const id of (await client.resultIds()).slice(-RECENT_RESULTS)) {
    const node = await client.node(paths.result(id));
    if (node) recentResults.push({ id, result: objectOrText(node.data) });
  }

  const setpoints: SiteView['setpoints'] = [];
  for (const id of await client.children(paths.setpoints)) {
    const node = await client.node(join(paths.setpoints, id));
    if (node) setpoints.push({ id, setpoint: objectOrText(node.data) });
  }

  return {
    site: paths.siteId,
    root: paths.root,
    readAt: new Date(clock.nowMs()).toISOString(),
    agents,
    conflicts,
    lock,
    devices: freshestDevices(agents),
    pendingCommands,
    recentResults,
    setpoints,
    fallbacks: fallbackTimers(agents),
  };
}

/** Per device, the reading with the latest `readAt` among all agents' snapshots. */
function freshestDevices(agents: readonly AgentView[]): Record<string, DeviceView> {
  const devices: Record<string, DeviceView> = {};
  for (const agent of agents) {
    const byDevice = agent.readings?.devices;
    if (typeof byDevice !== 'object' || byDevice === null) continue;
    for (const [id, raw] of Object.entries(byDevice)) {
      if (typeof raw !== 'object' || raw === null) continue;
      const r: Record<string, unknown> = { ...raw };
      const candidate: DeviceView = {
        kind: r.kind,
        status: r.status,
        readAt: typeof r.readAt === 'string' ? r.readAt : null,
        values: typeof r.values === 'object' && r.values !== null ? { ...r.values } : {},
        error: r.error ?? null,
        publishedBy: agent.agentId,
      };
      const current = devices[id];
      if (current === undefined || (candidate.readAt ?? '') > (current.readAt ?? '')) devices[id] = candidate;
    }
  }
  return devices;
}
