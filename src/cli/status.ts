import { parseArgs } from 'node:util';
import type { SiteClient } from '../coordination/site-client.js';
import type { ConflictView, SiteView } from '../coordination/site-view.js';
import { EXIT, UsageError, type CliIO } from './io.js';
import { openSiteClient, SITE_OPTIONS, zkOptionsFrom } from './zk-connect.js';

const MAX_VALUES_SHOWN = 6;

export async function statusCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: SITE_OPTIONS,
    strict: true,
    allowPositionals: false,
  });
  if (values.site === undefined) throw new UsageError('--site SITE is required');
  const zk = zkOptionsFrom(values, io);
  let client: SiteClient;
  try {
    client = await openSiteClient(zk, values.root, values.site);
  } catch (err) {
    io.stderr(`gridkeeper status: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failure;
  }
  try {
    const view = await client.view();
    if (values.json) io.stdout(JSON.stringify(view, null, 2));
    else for (const line of renderStatus(view, Date.now())) io.stdout(line);
    return EXIT.ok;
  } catch (err) {
    io.stderr(`gridkeeper status: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failure;
  } finally {
    await client.close();
  }
}

/** The human-readable table. */
export function renderStatus(view: SiteView, nowMs: number): string[] {
  const out: string[] = [];
  out.push(`site ${view.site}  (${view.root}/sites/${view.site})`);
  if (view.lock.holder !== null) {
    out.push(`lock held by ${view.lock.holder} since ${view.lock.since} (${ago(view.lock.since, nowMs)}), ${view.lock.node}, token ${view.lock.token}`);
  } else {
    out.push('lock: nobody holds it — no agent may act on commands');
  }
  for (const c of view.conflicts) out.push(conflictLine(c, view));
  out.push('');
  out.push('AGENTS');
  const agentRows = view.agents.map((a) => {
    const d = a.document ?? {};
    return [a.agentId, a.agentId === view.lock.holder ? 'leader' : 'standby', str(d.host), str(d.pid), str(d.version), str(d.startedAt)];
  });
  out.push(...table(['AGENT', 'ROLE', 'HOST', 'PID', 'VERSION', 'STARTED'], agentRows));
  out.push('');
  out.push('DEVICES');
  const deviceRows = Object.entries(view.devices)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, d]) => [id, str(d.kind), str(d.status), ago(d.readAt, nowMs), summary(d.values), d.error === null ? '' : str(d.error)]);
  out.push(...table(['DEVICE', 'KIND', 'STATUS', 'AGE', 'VALUES', 'ERROR'], deviceRows));
  out.push(...heldSetpoints(view, nowMs));
  out.push('');
  out.push(`PENDING COMMANDS (${view.pendingCommands.length})`);
  out.push(...table(['ID', 'CREATED', 'COMMAND'], view.pendingCommands.map((c) => [c.id, ago(c.createdAt, nowMs), JSON.stringify(c.command)])));
  out.push('');
  out.push(`RECENT RESULTS (${view.recentResults.length})`);
  out.push(
    ...table(
      ['ID', 'STATUS', 'BY', 'TOKEN', 'COMMAND', 'READ BACK', 'ERROR'],
      view.recentResults.map(({ id, result }) => {
        const r = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
        const c = (typeof r.command === 'object' && r.command !== null ? r.command : {}) as Record<string, unknown>;
        return [id, str(r.status), str(r.agentId), str(r.token), `${str(c.device)}.${str(c.point)}=${JSON.stringify(c.value)}`, str(r.readBack), str(r.error)];
      }),
    ),
  );
  return out;
}

/**
 * `CONFLICT: agent id gw-a runs twice: host gw-1 pid 812 publishes; host gw-2 pid 977 (since ...)
 * neither publishes nor queues for the lock until the other stops`.
 */
function conflictLine(c: ConflictView, view: SiteView): string {
  const d = c.document ?? {};
  const other = (typeof d.conflictsWith === 'object' && d.conflictsWith !== null ? d.conflictsWith : {}) as Record<string, unknown>;
  const agentId = str(d.agentId) || c.node.split('@')[0] || '?';
  // The one that publishes is in agents/ now; the conflict node names it as it was when found.
  const doc = view.agents.find((a) => a.agentId === agentId)?.document ?? {};
  const first = `host ${str(doc.host ?? other.host) || '?'} pid ${str(doc.pid ?? other.pid) || '?'}`;
  const second = `host ${str(d.host) || '?'} pid ${str(d.pid) || '?'}`;
  return (
    `CONFLICT: agent id ${agentId} runs twice: ${first} publishes; ${second} (since ${str(d.since) || '?'}) ` +
    'neither publishes nor queues for the lock until the other stops. Give each agent its own agent.id.'
  );
}

/**
 * HELD SETPOINTS (CONTRACT.md section 7): each with who set it and when, and until when; then per
 * device with a fallback timer, when it would fall back if nobody refreshed it.
 */
function heldSetpoints(view: SiteView, nowMs: number): string[] {
  const out = ['', `HELD SETPOINTS (${view.setpoints.length})`];
  const rows = view.setpoints.map(({ id, setpoint }) => {
    if (typeof setpoint !== 'object') return [id, JSON.stringify(setpoint), '', '', '', '', '', ''];
    const by = `${str(setpoint.issuedBy) || '?'} via ${str(setpoint.agentId) || '?'}`;
    const until = typeof setpoint.holdUntil === 'string' ? `${setpoint.holdUntil} (${ahead(setpoint.holdUntil, nowMs)})` : 'until released';
    // When its device falls back if nobody refreshes it: the device's timer, as its holder published it.
    const timer = view.fallbacks[str(setpoint.device)];
    const fallsBack = timer === undefined ? '-' : ahead(timer.revertsBy, nowMs);
    return [id, JSON.stringify(setpoint.value), str(setpoint.command), by, str(setpoint.token), ago(str(setpoint.setAt) || null, nowMs), until, fallsBack];
  });
  out.push(...table(['SETPOINT', 'VALUE', 'COMMAND', 'SET BY', 'TOKEN', 'SET', 'HELD', 'FALLS BACK'], rows));
  const timers = Object.entries(view.fallbacks).sort(([a], [b]) => a.localeCompare(b));
  if (timers.length > 0) {
    out.push('', 'FALLBACK TIMERS (if nobody refreshed them)');
    out.push(
      ...table(
        ['DEVICE', 'WINDOW', 'REFRESHED', 'BY', 'FALLS BACK'],
        timers.map(([id, f]) => [id, `${f.windowMs / 1000} s`, ago(f.refreshedAt, nowMs), f.refreshedBy, `${f.revertsBy} (${ahead(f.revertsBy, nowMs)})`]),
      ),
    );
  }
  return out;
}

/** `in 12.3s`, or `4.0s ago` once past. */
function ahead(iso: string, nowMs: number): string {
  const ms = Date.parse(iso) - nowMs;
  if (!Number.isFinite(ms)) return '?';
  if (ms < 0) return `passed, ${ago(iso, nowMs)}`;
  return ms < 120_000 ? `in ${(ms / 1000).toFixed(1)}s` : `in ${Math.round(ms / 60_000)}min`;
}

function summary(values: Record<string, unknown>): string {
  const entries = Object.entries(values).filter(([, v]) => typeof v !== 'string');
  const shown = entries.slice(0, MAX_VALUES_SHOWN).map(([k, v]) => `${k}=${typeof v === 'number' ? round(v) : String(v)}`);
  return shown.join(' ') + (entries.length > MAX_VALUES_SHOWN ? ` (+${entries.length - MAX_VALUES_SHOWN})` : '');
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(2)));
}

function ago(iso: string | null, nowMs: number): string {
  if (iso === null) return '-';
  const ms = nowMs - Date.parse(iso);
  if (!Number.isFinite(ms)) return '?';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms ago`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s ago`;
  return `${Math.round(ms / 60_000)}min ago`;
}

function str(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function table(header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['  (none)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => '  ' + cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
