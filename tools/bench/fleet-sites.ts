// The sites of the fleet bench: a solar park with storage (8 generic inverters and 2 generic BMS on
// one Modbus TCP gateway), two agents each (`gridkeeper run` processes), per-site digest credentials,
// and one EMS identity allowed to submit commands to every site (zookeeper.auth.commandIssuers).
// Two variants side by side in the same fleet, so that each figure has its baseline from the same run:
//   deadband   what ships: the generic profiles' deadbands, the alive write every 60 s, results kept
//              1000 for at most 7 days (the defaults);
//   baseline   today's behaviour: the same points with deadband 0 (every change publishes), results
//              kept 1000 without an age limit (a year, the most the schema takes).
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { readProfile } from '../../src/config/profiles.js';
import type { RawPoint } from '../../src/config/schema.js';
import { SiteClient, SitePaths, DEFAULT_ROOT, type ZkSession } from '../../src/coordination/index.js';
import type { ChildHandle } from '../devtools/processes.js';
import { startAgent } from './agent-process.js';

export type Variant = 'deadband' | 'baseline';

export const INVERTERS_PER_SITE = 8;
export const BMS_PER_SITE = 2;
export const DEVICES_PER_SITE = INVERTERS_PER_SITE + BMS_PER_SITE;
export const AGENT_IDS = ['gw-a', 'gw-b'] as const;
/** Short, as in the failover section: a SIGKILL failover then takes seconds, not tens of them. */
export const SESSION_TIMEOUT_MS = 4000;
const YEAR_MS = 31_536_000_000;

export interface FleetSite {
  readonly name: string;
  readonly variant: Variant;
  readonly port: number;
  /** The agents' config files, by agent id. */
  readonly configs: ReadonlyMap<string, string>;
  /** The file the simulator serves (the same devices and port). */
  readonly simulatorConfig: string;
  /** Running agents by id (a SIGKILLed one is removed). */
  readonly agents: Map<string, ChildHandle>;
  /** The EMS's operator client of this site. */
  readonly client: SiteClient;
  readonly paths: SitePaths;
}

export interface FleetSiteOptions {
  dir: string;
  index: number;
  variant: Variant;
  port: number;
  zookeeper: string;
  /** `digest:ems:HASH`: may create commands on every site. */
  emsAclId: string;
  emsSession: ZkSession;
}

export function fleetSite(o: FleetSiteOptions): FleetSite {
  const name = `fleet-${String(o.index).padStart(3, '0')}-${o.variant}`;
  const credentialsFile = path.join(o.dir, `${name}.credentials`);
  fs.writeFileSync(credentialsFile, `${name}-agents:secret-${o.index}\n`, { mode: 0o600 });
  const devices = [
    ...Array.from({ length: INVERTERS_PER_SITE }, (_, i) => device(`inv-${i + 1}`, 'inverter', 'generic-inverter', i + 1, o.variant)),
    ...Array.from({ length: BMS_PER_SITE }, (_, i) => device(`bms-${i + 1}`, 'bms', 'generic-bms', INVERTERS_PER_SITE + i + 1, o.variant)),
  ];
  const doc = (agentId: string): Record<string, unknown> => ({
    site: name,
    agent: { id: agentId },
    zookeeper: { connect: o.zookeeper, sessionTimeoutMs: SESSION_TIMEOUT_MS, auth: { credentialsFile, commandIssuers: [o.emsAclId] } },
    publish: { intervalMs: 1000 },
    control: o.variant === 'baseline' ? { resultsKept: 1000, resultsMaxAgeMs: YEAR_MS } : {},
    http: { listen: false },
    log: { level: 'warn' },
    // A quarter of the session timeout at most (the gate's timing rule).
    buses: [{ id: 'lan', type: 'tcp', host: '127.0.0.1', port: o.port, timeoutMs: 1000 }],
    devices,
  });
  const write = (file: string, agentId: string): string => {
    const full = path.join(o.dir, file);
    fs.writeFileSync(full, stringify(doc(agentId)));
    return full;
  };
  const configs = new Map(AGENT_IDS.map((id) => [id, write(`${name}-${id}.yaml`, id)]));
  const paths = new SitePaths(DEFAULT_ROOT, name);
  return {
    name,
    variant: o.variant,
    port: o.port,
    configs,
    simulatorConfig: write(`${name}-simulator.yaml`, 'simulator'),
    agents: new Map(),
    client: new SiteClient(o.emsSession, paths),
    paths,
  };
}

/** A device of the generic profile; for the baseline, the profile's points written out with deadband 0. */
function device(id: string, kind: string, profile: string, unitId: number, variant: Variant): Record<string, unknown> {
  const base = { id, kind, bus: 'lan', unitId, pollIntervalMs: 1000 };
  if (variant === 'deadband') return { ...base, profile };
  return { ...base, points: profilePoints(profile).map((p) => (p.type === 'bool' || p.type === 'string' ? p : { ...p, deadband: 0 })) };
}

function profilePoints(profile: string): RawPoint[] {
  const read = readProfile(profile);
  if (!read.ok) throw new Error(`profile ${profile}: ${read.problems.map((p) => p.message).join('; ')}`);
  return read.points;
}

/** Starts both agents of a site (quiet: warn level). */
export function startSiteAgents(site: FleetSite): void {
  for (const [id, file] of site.configs) site.agents.set(id, startAgent(file, `${site.name} ${id}`));
}
