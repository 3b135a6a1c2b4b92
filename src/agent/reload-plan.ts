// What a reload (SIGHUP, `systemctl reload`) does with a site file that passed every check: the
// running config against the new one, key by key. Pure: the agent applies the plan (agent.ts,
// modbus-side.ts), the reloader logs it (reload.ts).
//
//   applied in place   buses[], devices[] (by id: only what changed is rebuilt), publish.intervalMs
//                      and maxIntervalMs, control.commandTtlMs, verifyWrites, resultsKept and
//                      resultsMaxAgeMs, log.level
//   needs a restart    everything else that changed: site, agent.id and zookeeper.* belong to the
//                      ZooKeeper session (its nodes, ACLs and lock are made with them), http.listen to
//                      the one HTTP server of the process. A setting added to the config later counts
//                      here until the reload learns to apply it: safe by default.
//
// The restart keys keep their running values and the rest is applied all the same: a new ZooKeeper
// address says nothing about the devices, and a device fix should not wait for a restart window.
//
// The timing rules of `validate` (every bus timeoutMs <= sessionTimeoutMs / 4, the fallback windows
// against sessionTimeoutMs) were checked against the file's own sessionTimeoutMs; the session that
// runs keeps the old one until a restart. So they are checked again here against the running session
// (the timeout it asked for, or what the server granted when less). A new file that breaks them
// there keeps the running buses and devices (the devices' changes depend on their buses'): that part
// is refused and says why; the rest is still applied.
import { isDeepStrictEqual } from 'node:util';
import type { BusConfig, DeviceConfig, SiteConfig } from '../config/types.js';
import { refreshWindows, takeoverBudgetMs, windowAllowsTakeover } from '../config/fallback-timing.js';

/** Settings outside buses and devices that a reload applies without a restart (agent.ts). */
export const APPLIED_IN_PLACE: ReadonlySet<string> = new Set([
  'publish.intervalMs',
  'publish.maxIntervalMs',
  'control.commandTtlMs',
  'control.verifyWrites',
  'control.resultsKept',
  'control.resultsMaxAgeMs',
  'log.level',
]);

/** What the running ZooKeeper session allows; the timing rules are checked against it. */
export interface RunningSession {
  /** The session timeout in force, ms: requested, or granted by the server when less. */
  sessionTimeoutMs: number;
}

/** What changes on the Modbus side, by id. */
export interface ModbusChanges {
  buses: { added: string[]; changed: string[]; removed: string[] };
  /** `rebuilt`: a new driver and poller (its config changed, its bus did, or control.verifyWrites). */
  devices: { added: string[]; rebuilt: string[]; removed: string[] };
}

export interface ReloadPlan {
  /** The config the agent runs once the plan is applied: the file's, with the running values of restart keys (and of buses and devices when refused). */
  effective: SiteConfig;
  /** Changed keys that need a restart (`zookeeper.connect`, `agent.id`, ...); their running values stay. */
  restartKeys: string[];
  /** Changed keys of APPLIED_IN_PLACE. */
  applied: string[];
  /** The file's buses and devices break a timing rule of the running session: they are not applied. */
  refused: { keys: string[]; reason: string } | null;
  modbus: ModbusChanges;
}

/** The reload of `next` over `running`. */
export function planReload(running: SiteConfig, next: SiteConfig, session: RunningSession): ReloadPlan {
  const changed = changedKeys(settingsOf(running), settingsOf(next), '');
  const restartKeys = changed.filter((k) => !APPLIED_IN_PLACE.has(k));
  const applied = changed.filter((k) => APPLIED_IN_PLACE.has(k));

  const effective: SiteConfig = structuredClone(next);
  for (const key of restartKeys) setKey(effective, key, getKey(running, key));

  const refused = timingRefusal(running, next, session);
  if (refused !== null) {
    effective.buses = structuredClone(running.buses);
    effective.devices = structuredClone(running.devices);
  }
  return { effective, restartKeys, applied, refused, modbus: modbusChanges(running, effective) };
}

/** Buses by id, then devices: a device is rebuilt when it, its bus or control.verifyWrites changed. */
function modbusChanges(running: SiteConfig, next: SiteConfig): ModbusChanges {
  const buses = diffById(running.buses, next.buses, (was, bus) => !isDeepStrictEqual(was, bus));
  const newBus = new Set([...buses.added, ...buses.changed]);
  const verifyChanged = running.control.verifyWrites !== next.control.verifyWrites;
  const devices = diffById(running.devices, next.devices, (was, device) => verifyChanged || newBus.has(device.bus) || !isDeepStrictEqual(was, device));
  return { buses, devices: { added: devices.added, rebuilt: devices.changed, removed: devices.removed } };
}

/** Ids of `next` not in `running` (added), in both and `changed(was, now)` (in `next`'s order), in `running` only (removed). */
function diffById<T extends BusConfig | DeviceConfig>(
  running: readonly T[],
  next: readonly T[],
  changed: (was: T, now: T) => boolean,
): { added: string[]; changed: string[]; removed: string[] } {
  const was = byId(running);
  const now = byId(next);
  const out = { added: [] as string[], changed: [] as string[], removed: [] as string[] };
  for (const [id, item] of now) {
    const before = was.get(id);
    if (before === undefined) out.added.push(id);
    else if (changed(before, item)) out.changed.push(id);
  }
  for (const id of was.keys()) if (!now.has(id)) out.removed.push(id);
  return out;
}

/**
 * The actuation gate's rule (W = the largest bus timeoutMs at most T/4) and the fallback windows'
 * (two thirds of a window beyond T + 2 poll intervals + 1 s), with T = the running session's
 * timeout. W is refused only when the reload raises it: a W already running stays as the gate
 * adapted to it. Null when both hold.
 */
function timingRefusal(running: SiteConfig, next: SiteConfig, session: RunningSession): ReloadPlan['refused'] {
  const T = session.sessionTimeoutMs;
  const keys: string[] = [];
  const reasons: string[] = [];
  const limitMs = Math.floor(T / 4);
  const runningW = largestTimeoutMs(running.buses);
  if (largestTimeoutMs(next.buses) > Math.max(runningW, limitMs)) {
    next.buses.forEach((b, i) => {
      if (b.timeoutMs > limitMs) keys.push(`buses[${i}].timeoutMs`);
    });
    reasons.push(
      `a bus timeoutMs above ${limitMs} ms (the running session's timeout ${T} ms / 4) would let a write outlast the actuation gate's lease`,
    );
  }
  next.devices.forEach((d, i) => {
    const windows = refreshWindows({ kind: d.kind, points: d.points, watchdog: d.watchdog, sunspecRevertSeconds: d.sunspec?.revertSeconds });
    for (const w of windows) {
      if (windowAllowsTakeover(w.windowMs, T, d.pollIntervalMs)) continue;
      keys.push(`devices[${i}]${w.point === undefined ? '' : `.${w.point}`} (${w.source} ${w.windowMs} ms)`);
      reasons.push(
        `two thirds of device ${d.id}'s ${w.source} window must exceed ${takeoverBudgetMs(T, d.pollIntervalMs)} ms ` +
          `(the running session's timeout ${T} ms + 2 × pollIntervalMs + 1000)`,
      );
    }
  });
  return keys.length === 0 ? null : { keys, reason: reasons.join('; ') };
}

/** W of the actuation gate: the longest a device write may take, ms (0 without buses). */
export function largestTimeoutMs(buses: readonly BusConfig[]): number {
  return Math.max(0, ...buses.map((b) => b.timeoutMs));
}

function byId<T extends BusConfig | DeviceConfig>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((x) => [x.id, x]));
}

/** The config without its Modbus side and without `file` (where it was read from, not a setting). */
function settingsOf(config: SiteConfig): Record<string, unknown> {
  const { buses: _buses, devices: _devices, file: _file, ...settings } = config;
  return settings;
}

/** Dotted paths of the leaves (values that are no plain object: arrays count as one value) that differ. */
function changedKeys(a: unknown, b: unknown, prefix: string): string[] {
  if (!isRecord(a) || !isRecord(b)) return isDeepStrictEqual(a, b) ? [] : [prefix];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => changedKeys(a[k], b[k], prefix === '' ? k : `${prefix}.${k}`));
}

function getKey(obj: unknown, key: string): unknown {
  let v = obj;
  for (const part of key.split('.')) v = isRecord(v) ? v[part] : undefined;
  return v;
}

/** Sets the value at a dotted key, making plain objects on the way; `undefined` removes the key. */
function setKey(obj: object, key: string, value: unknown): void {
  const parts = key.split('.');
  const last = parts.pop();
  if (last === undefined) return;
  let target: Record<string, unknown> = obj as Record<string, unknown>;
  for (const part of parts) {
    const child = target[part];
    if (!isRecord(child)) target[part] = {};
    target = target[part] as Record<string, unknown>;
  }
  if (value === undefined) delete target[last];
  else target[last] = structuredClone(value);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
