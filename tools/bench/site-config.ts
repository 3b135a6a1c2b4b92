// Site configs the bench generates (as YAML files, read back through the real config loader, so
// every generated site passes the same checks an operator's file does).
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import type { SiteConfig } from '../../src/config/types.js';

export const GENERIC_PROFILES = [
  { profile: 'generic-inverter', kind: 'inverter' },
  { profile: 'generic-turbine', kind: 'turbine' },
  { profile: 'generic-bms', kind: 'bms' },
] as const;

export interface BusSpec {
  id: string;
  port: number;
  timeoutMs?: number;
}

export interface DeviceSpec {
  id: string;
  bus: string;
  unitId: number;
  profile: string;
  kind: string;
  pollIntervalMs: number;
  /** For `profile: sunspec`: where the chain starts (default auto). */
  sunspec?: { baseAddress: number | 'auto' };
  /** More keys of the device's entry (a point replacing the profile's, a watchdog), as a site file has them. */
  keys?: Record<string, unknown>;
}

export interface SiteSpec {
  site: string;
  agentId: string;
  zookeeper: string;
  sessionTimeoutMs?: number;
  publishIntervalMs?: number;
  /** null turns the HTTP endpoint off. */
  httpPort: number | null;
  logLevel?: 'info' | 'warn' | 'error';
  buses: BusSpec[];
  devices: DeviceSpec[];
}

/** Writes `spec` as a config file in `dir` and returns its path. */
export function writeSite(dir: string, name: string, spec: SiteSpec): string {
  const doc = {
    site: spec.site,
    agent: { id: spec.agentId },
    zookeeper: { connect: spec.zookeeper, sessionTimeoutMs: spec.sessionTimeoutMs ?? 10_000 },
    publish: { intervalMs: spec.publishIntervalMs ?? 1000 },
    http: { listen: spec.httpPort === null ? false : `127.0.0.1:${spec.httpPort}` },
    log: { level: spec.logLevel ?? 'warn' },
    buses: spec.buses.map((b) => ({ id: b.id, type: 'tcp', host: '127.0.0.1', port: b.port, timeoutMs: b.timeoutMs ?? 1000 })),
    devices: spec.devices.map((d) => ({
      id: d.id,
      kind: d.kind,
      bus: d.bus,
      unitId: d.unitId,
      profile: d.profile,
      pollIntervalMs: d.pollIntervalMs,
      ...(d.sunspec ? { sunspec: d.sunspec } : {}),
      ...d.keys,
    })),
  };
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  return file;
}

/** The typed config of a generated file (throws ConfigError when the bench built a bad one). */
export function readSite(file: string): SiteConfig {
  return loadConfig(file);
}

/**
 * `count` devices, the generic profiles in turn, spread over buses of `unitsPerBus` unit ids each
 * (a Modbus TCP gateway in front of an RS-485 line of several devices).
 */
export function gatewayDevices(count: number, unitsPerBus: number, busIds: readonly string[], pollIntervalMs: number): DeviceSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const kind = GENERIC_PROFILES[i % GENERIC_PROFILES.length] ?? GENERIC_PROFILES[0];
    const bus = busIds[Math.floor(i / unitsPerBus)];
    if (bus === undefined) throw new RangeError(`${count} devices need ${Math.ceil(count / unitsPerBus)} buses, got ${busIds.length}`);
    return { id: `dev-${String(i + 1).padStart(3, '0')}`, bus, unitId: (i % unitsPerBus) + 1, profile: kind.profile, kind: kind.kind, pollIntervalMs };
  });
}
