// The one-line state of the agent that `systemctl status gridkeeper@SITE` shows (sd_notify STATUS=),
// made from the same Health that GET /healthz answers, so the two never disagree.
import type { Health } from './http.js';

/**
 * `leader, devices up 2/2, ZooKeeper connected`, or e.g.
 * `poll loop stalled, standby, devices up 1/3 (1 idle on a leaderOnly bus), ZooKeeper suspended`.
 * "standby" is the agent without the site lock (CONTRACT.md section 8); a device idle on a
 * leaderOnly bus of a standby agent is shown apart, as it is not down.
 */
export function statusLine(health: Health): string {
  const statuses = Object.values(health.devices);
  const up = statuses.filter((s) => s === 'ok').length;
  const idle = statuses.filter((s) => s === 'standby').length;
  const devices = `devices up ${up}/${statuses.length}${idle > 0 ? ` (${idle} idle on a leaderOnly bus)` : ''}`;
  const parts = [health.leader ? 'leader' : 'standby', devices, `ZooKeeper ${health.zookeeper}`];
  if (health.stalled) parts.unshift('poll loop stalled');
  return parts.join(', ');
}
