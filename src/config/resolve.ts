// Defaults, filled in once the schema has accepted a value. Kept apart from the schema so that the
// checks can still tell a key that was written from one that was left to its default.
import type { BusConfig, PointConfig, SiteConfig, SunSpecConfig } from './types.js';
import type { RawBus, RawConfig, RawPoint, RawSunSpec } from './schema.js';

export const DEFAULT_TIMEOUT_MS = 1000;
export const DEFAULT_PAUSE_MS = { tcp: 0, rtu: 5 } as const;
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
/** SunSpec revert timer default (CONTRACT.md section 7), s. */
export const DEFAULT_SUNSPEC_REVERT_SECONDS = 60;
/** publish.intervalMs default: at most one readings write per second. */
export const DEFAULT_PUBLISH_INTERVAL_MS = 1000;
/**
 * publish.maxIntervalMs default (CONTRACT.md section 10): the "alive" write a reader can count on
 * when no value moves past its deadband, ms. Never below publish.intervalMs.
 */
export const DEFAULT_PUBLISH_MAX_INTERVAL_MS = 60_000;
/** control.resultsMaxAgeMs default (CONTRACT.md section 10): a week of results, by ZooKeeper's clock. */
export const DEFAULT_RESULTS_MAX_AGE_MS = 7 * 24 * 3_600_000;

export function resolvePoint(raw: RawPoint): PointConfig {
  const p: PointConfig = {
    name: raw.name,
    table: raw.table ?? 'holding',
    address: raw.address,
    type: raw.type,
    wordOrder: raw.wordOrder ?? 'big',
    byteOrder: raw.byteOrder ?? 'big',
    scale: raw.scale ?? 1,
    offset: raw.offset ?? 0,
    access: raw.access ?? 'read',
  };
  // Optional keys appear only when written, so a resolved point has no `key: undefined` entries.
  if (raw.bit !== undefined) p.bit = raw.bit;
  if (raw.length !== undefined) p.length = raw.length;
  if (raw.scaleFactor !== undefined) p.scaleFactor = raw.scaleFactor;
  if (raw.unit !== undefined) p.unit = raw.unit;
  if (raw.min !== undefined) p.min = raw.min;
  if (raw.max !== undefined) p.max = raw.max;
  if (raw.deadband !== undefined) p.deadband = raw.deadband;
  if (raw.fallback !== undefined) {
    const { value, revertTimer } = raw.fallback;
    p.fallback = revertTimer === undefined ? { value } : { value, revertTimer: { ...revertTimer } };
  }
  return p;
}

/** `publish:` with its defaults; the alive write is never asked for more often than any write may happen. */
export function resolvePublish(raw: RawConfig['publish']): SiteConfig['publish'] {
  const intervalMs = raw?.intervalMs ?? DEFAULT_PUBLISH_INTERVAL_MS;
  return { intervalMs, maxIntervalMs: raw?.maxIntervalMs ?? Math.max(DEFAULT_PUBLISH_MAX_INTERVAL_MS, intervalMs) };
}

/** The `sunspec:` block of a `profile: sunspec` device, which may be left out entirely. */
export function resolveSunSpec(raw: RawSunSpec | undefined): SunSpecConfig {
  return {
    baseAddress: raw?.baseAddress ?? 'auto',
    index: raw?.index ?? 1,
    models: raw?.models ?? [],
    revertSeconds: raw?.revertSeconds ?? DEFAULT_SUNSPEC_REVERT_SECONDS,
  };
}

export function resolveBus(raw: RawBus): BusConfig {
  const common = {
    id: raw.id,
    timeoutMs: raw.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    pauseMs: raw.pauseMs ?? DEFAULT_PAUSE_MS[raw.type],
    leaderOnly: raw.leaderOnly ?? false,
  };
  if (raw.type === 'tcp') return { ...common, type: 'tcp', host: raw.host, port: raw.port ?? 502 };
  return {
    ...common,
    type: 'rtu',
    path: raw.path,
    baudRate: raw.baudRate ?? 9600,
    parity: raw.parity ?? 'none',
    dataBits: raw.dataBits ?? 8,
    stopBits: raw.stopBits ?? 1,
  };
}

/** The host name reduced to the agent id pattern [A-Za-z0-9_.-]{1,64}. */
export function agentIdFromHostname(hostname: string): string {
  const id = hostname.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
  return id === '' ? 'gridkeeper' : id;
}
