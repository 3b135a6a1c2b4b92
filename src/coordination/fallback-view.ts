// When each device would fall back if nobody refreshed it (CONTRACT.md section 7), as the agents'
// readings snapshots say it: the lock holder adds `fallback: {windowMs, refreshedAt, revertsBy}` to
// a device it keeps a timer of. Of all snapshots, the latest refresh counts (a standby's lingering
// one is older). Bad data is skipped, never fatal.
import type { AgentView } from './site-view.js';

export interface FallbackTimerView {
  /** The device's window, ms. */
  windowMs: number;
  /** When its timer was last restarted, ISO 8601 (ZooKeeper's clock). */
  refreshedAt: string;
  /** When it falls back if nobody refreshes it again. */
  revertsBy: string;
  /** The agent whose snapshot says so. */
  refreshedBy: string;
}

export function fallbackTimers(agents: readonly AgentView[]): Record<string, FallbackTimerView> {
  const out: Record<string, FallbackTimerView> = {};
  for (const agent of agents) {
    const devices = agent.readings?.devices;
    if (typeof devices !== 'object' || devices === null) continue;
    for (const [id, raw] of Object.entries(devices)) {
      const f: unknown = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).fallback : undefined;
      if (typeof f !== 'object' || f === null) continue;
      const { windowMs, refreshedAt, revertsBy } = f as Record<string, unknown>;
      if (typeof windowMs !== 'number' || typeof refreshedAt !== 'string' || typeof revertsBy !== 'string') continue;
      const current = out[id];
      if (current === undefined || refreshedAt > current.refreshedAt) out[id] = { windowMs, refreshedAt, revertsBy, refreshedBy: agent.agentId };
    }
  }
  return out;
}
