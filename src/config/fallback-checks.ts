// Checks of held setpoints' fallbacks (CONTRACT.md section 7) that the schema cannot express: what a
// `fallback` and a `watchdog` name must be (a writable point of the same device, of the right type
// and range), and the timing rules of fallback-timing.ts against the session timeout and the buses.
import { busRoundMs, refreshIntervalMs, refreshWindows, takeoverBudgetMs, windowAllowsTakeover, type RefreshWindow } from './fallback-timing.js';
import type { Finding, LocatedPoint } from './point-checks.js';
import { DEFAULT_PAUSE_MS, DEFAULT_SUNSPEC_REVERT_SECONDS, DEFAULT_TIMEOUT_MS } from './resolve.js';
import { SUNSPEC_PROFILE, type RawBus, type RawDevice, type RawPoint } from './schema.js';
import type { KeyPath } from './yaml-source.js';

const DEFAULT_POLL_INTERVAL_MS = 1000;

const isWritable = (p: RawPoint): boolean => (p.access ?? 'read') !== 'read';
const isNumeric = (p: RawPoint): boolean => p.type !== 'bool' && p.type !== 'string';

/**
 * A finding about `keys` under a point's `fallback`: at that key for a point of the config file; at
 * the device's `profile` key, naming the profile point and the key, for a point of a profile.
 */
function about(lp: LocatedPoint, keys: readonly string[], message: string): Finding {
  if (lp.profile === undefined) return { path: [...lp.path, ...keys], message };
  return { path: lp.path, message: `point '${lp.point.name}' of profile ${lp.profile}: ${keys.join('.')}: ${message}` };
}

/**
 * The fallbacks of one set of points (a profile's, or a device's after its profile is merged) and
 * the device's watchdog. `watchdog` is undefined for a profile: whether a fallback without a revert
 * timer has a watchdog behind it is decided per device.
 */
export function checkFallbackRefs(
  points: readonly LocatedPoint[],
  owner: 'device' | 'profile',
  watchdog?: { point: string | undefined; path: KeyPath },
): Finding[] {
  const byName = new Map(points.map((lp) => [lp.point.name, lp]));
  const out: Finding[] = [];
  for (const lp of points) {
    const f = lp.point.fallback;
    if (f === undefined) continue;
    const p = lp.point;
    if (!isWritable(p)) out.push(about(lp, ['fallback'], `'${p.name}' is read-only (access read): only a writable point can be held`));
    if (p.type === 'string') out.push(about(lp, ['fallback'], 'applies only to numeric and bool points'));
    else if (p.type === 'bool' && typeof f.value !== 'boolean') out.push(about(lp, ['fallback', 'value'], `'${p.name}' is a bool: must be true or false`));
    else if (p.type !== 'bool' && typeof f.value !== 'number') out.push(about(lp, ['fallback', 'value'], `'${p.name}' is numeric: must be a number`));
    else if (typeof f.value === 'number' && ((p.min !== undefined && f.value < p.min) || (p.max !== undefined && f.value > p.max))) {
      out.push(about(lp, ['fallback', 'value'], `${f.value} is outside the point's min..max (${p.min ?? '-inf'}..${p.max ?? 'inf'})`));
    }

    const timer = f.revertTimer;
    if (timer === undefined) {
      if (owner === 'device' && watchdog?.point === undefined) {
        out.push(
          about(lp, ['fallback'], "needs revertTimer, or a watchdog on the device: without either the device keeps the last value when every gateway is gone"),
        );
      }
      continue;
    }
    const target = byName.get(timer.point);
    const at = ['fallback', 'revertTimer', 'point'];
    if (target === undefined) out.push(about(lp, at, `no point '${timer.point}' in this ${owner}`));
    else if (target === lp) out.push(about(lp, at, 'the revert timer must be another point (a register holding the timeout, s)'));
    else if (!isWritable(target.point)) out.push(about(lp, at, `point '${timer.point}' is read-only: the revert timer is programmed with every write, so it must be writable`));
    else if (!isNumeric(target.point)) out.push(about(lp, at, `point '${timer.point}' is ${target.point.type}: a revert timer holds a number of seconds`));
    else {
      const { min, max } = target.point;
      if ((min !== undefined && timer.seconds < min) || (max !== undefined && timer.seconds > max)) {
        out.push(about(lp, ['fallback', 'revertTimer', 'seconds'], `${timer.seconds} is outside min..max of point '${timer.point}' (${min ?? '-inf'}..${max ?? 'inf'})`));
      }
    }
  }
  if (watchdog?.point !== undefined) out.push(...checkWatchdog(watchdog.point, byName, [...watchdog.path, 'point']));
  return out;
}

function checkWatchdog(name: string, byName: ReadonlyMap<string, LocatedPoint>, path: KeyPath): Finding[] {
  const target = byName.get(name)?.point;
  if (target === undefined) return [{ path, message: `no point '${name}' in this device` }];
  if (!isWritable(target)) return [{ path, message: `point '${name}' is read-only: the lock holder must keep writing the watchdog register` }];
  if (target.type === 'string') return [{ path, message: `point '${name}' is a string: a watchdog register holds a number or a bit` }];
  return [];
}

/** Everything the site-level rules look at (a subset of checks.ts's SiteView). */
export interface FallbackSite {
  sessionTimeoutMs: number | undefined;
  buses: ReadonlyArray<{ index: number; value: RawBus }>;
  devices: ReadonlyArray<{ index: number; value: RawDevice }>;
  points: ReadonlyMap<number, LocatedPoint[]>;
}

/** Fallback references of every device, rule 1 per window and rule 2 per bus (fallback-timing.ts). */
export function checkHeldSetpoints(site: FallbackSite): Finding[] {
  const out: Finding[] = [];
  const onBus = new Map<string, Array<{ index: number; window: RefreshWindow; intervalMs: number }>>();
  for (const { index, value: device } of site.devices) {
    const merged = site.points.get(index);
    if (merged === undefined) continue; // its profile is unknown or broken; reported elsewhere
    const watchdogPath: KeyPath = ['devices', index, 'watchdog'];
    out.push(...checkFallbackRefs(merged, 'device', { point: device.watchdog?.point, path: watchdogPath }));

    const sunspec = device.profile === SUNSPEC_PROFILE;
    const windows = refreshWindows({
      kind: device.kind,
      points: merged.map((lp) => lp.point),
      watchdog: device.watchdog,
      sunspecRevertSeconds: sunspec ? (device.sunspec?.revertSeconds ?? DEFAULT_SUNSPEC_REVERT_SECONDS) : undefined,
    });
    const pollMs = device.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    for (const window of windows) {
      const T = site.sessionTimeoutMs;
      if (T !== undefined && !windowAllowsTakeover(window.windowMs, T, pollMs)) {
        out.push(windowFinding(index, merged, window, T, pollMs));
        continue;
      }
      const list = onBus.get(device.bus) ?? [];
      list.push({ index, window, intervalMs: refreshIntervalMs(window.windowMs, pollMs) });
      onBus.set(device.bus, list);
    }
  }
  for (const { index, value: bus } of site.buses) {
    const windows = onBus.get(bus.id);
    if (windows === undefined) continue;
    const writes = windows.reduce((n, w) => n + w.window.writes, 0);
    const timing = { timeoutMs: bus.timeoutMs ?? DEFAULT_TIMEOUT_MS, pauseMs: bus.pauseMs ?? DEFAULT_PAUSE_MS[bus.type] };
    const roundMs = busRoundMs(writes, timing);
    const shortest = windows.reduce((a, b) => (b.intervalMs < a.intervalMs ? b : a));
    if (roundMs > shortest.intervalMs) {
      out.push({
        path: ['buses', index, 'timeoutMs'],
        message:
          `the bus cannot fit the refresh writes of its held setpoints: ${writes} writes × (timeoutMs ${timing.timeoutMs} + pauseMs ${timing.pauseMs}) = ` +
          `${roundMs} ms in the worst case, more than the shortest refresh interval on it (${shortest.intervalMs} ms, devices[${shortest.index}]: ` +
          'a third of its window less its poll interval); lower timeoutMs or lengthen the windows (CONTRACT.md section 7)',
      });
    }
  }
  return out;
}

/** Rule 1 failed: at the key that sets the window, with the smallest window that would do. */
function windowFinding(index: number, merged: readonly LocatedPoint[], w: RefreshWindow, sessionTimeoutMs: number, pollMs: number): Finding {
  const budgetMs = takeoverBudgetMs(sessionTimeoutMs, pollMs);
  // Smallest window whose two thirds exceed the budget.
  const neededMs = Math.floor((3 * budgetMs) / 2) + 1;
  const why =
    `two thirds of the window (${Math.floor((2 * w.windowMs) / 3)} ms) must exceed zookeeper.sessionTimeoutMs + 2 × pollIntervalMs + 1000 = ` +
    `${sessionTimeoutMs} + 2 × ${pollMs} + 1000 = ${budgetMs} ms, so that another agent can take over before the device falls back`;
  if (w.source === 'watchdog') return { path: ['devices', index, 'watchdog', 'everyMs'], message: `${w.windowMs} ms is too short: ${why}; at least ${neededMs}` };
  const seconds = `${w.windowMs / 1000} s is too short: ${why}; at least ${Math.ceil(neededMs / 1000)}`;
  if (w.source === 'sunspec') return { path: ['devices', index, 'sunspec', 'revertSeconds'], message: seconds };
  const lp = merged.find((p) => p.point.name === w.point);
  if (lp === undefined) return { path: ['devices', index], message: seconds };
  return about(lp, ['fallback', 'revertTimer', 'seconds'], seconds);
}
