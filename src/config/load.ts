// Config file → SiteConfig: YAML, the strict schema, profiles merged, cross-checks, defaults.
// Every problem found is collected and thrown together as one ConfigError, sorted by line.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { checkSite, type Indexed, type SiteView } from './checks.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { issuesToProblems } from './issues.js';
import { mergePoints } from './merge.js';
import type { Finding, LocatedPoint } from './point-checks.js';
import { defaultProfilesDir, profileNames, readProfile, type ProfileRead } from './profiles.js';
import {
  agentIdFromHostname,
  DEFAULT_RESULTS_MAX_AGE_MS,
  DEFAULT_SESSION_TIMEOUT_MS,
  resolveBus,
  resolvePoint,
  resolvePublish,
  resolveSunSpec,
} from './resolve.js';
import { busSchema, configSchema, deviceSchema, sessionTimeout, SUNSPEC_PROFILE, type RawConfig } from './schema.js';
import { estimateSnapshotBytes, MAX_SNAPSHOT_BYTES } from './snapshot-size.js';
import type { SiteConfig } from './types.js';
import { parseYamlSource, type YamlSource } from './yaml-source.js';

export interface LoadOptions {
  /** Host name for the default agent id; default os.hostname(). */
  hostname?: string;
  /** Where built-in profiles are; default <package root>/profiles. */
  profilesDir?: string;
  /**
   * Checks the caller adds, on a config that passed every other check (`validate`: the files it
   * names); their findings are reported like the file's own, at the line of their key.
   */
  extraChecks?: (config: SiteConfig) => Finding[];
}

/** Reads and checks a config file. `file` is kept as given, for messages. Throws ConfigError. */
export function loadConfig(file: string, opts: LoadOptions = {}): SiteConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ file, line: 1, path: '', message: `cannot read the config file: ${reason}` }]);
  }
  return parseConfig(text, file, opts);
}

/** Parses and checks config text; `file` names it in messages. Throws ConfigError. */
export function parseConfig(text: string, file: string, opts: LoadOptions = {}): SiteConfig {
  const source = parseYamlSource(text, file);
  if (Array.isArray(source)) throw new ConfigError(source);
  if (source.value === null || source.value === undefined) {
    throw new ConfigError([{ file, line: 1, path: '', message: 'the file is empty: expected a map of settings (site, zookeeper, buses, devices)' }]);
  }

  // A key left empty (`agent:` above commented-out settings) counts as not given.
  const value = withoutNulls(source.value);
  const problems: ConfigProblem[] = [];
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) problems.push(...issuesToProblems(parsed.error.issues, source, configSchema));

  const profilesDir = opts.profilesDir ?? defaultProfilesDir();
  const view = siteView(value, profilesDir, problems);
  for (const f of checkSite(view)) problems.push(source.problem(f.path, f.message));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const config = resolveConfig(parsed.data, view.points, file, opts.hostname ?? hostname());
  checkSnapshotSize(config, source);
  const extra = opts.extraChecks?.(config) ?? [];
  if (extra.length > 0) throw new ConfigError(extra.map((f) => source.problem(f.path, f.message)));
  return config;
}

/**
 * The parts of the document that pass the schema on their own, with their devices' points merged:
 * what the cross-checks look at. Problems of the profiles read are added to `problems`.
 */
function siteView(value: unknown, profilesDir: string, problems: ConfigProblem[]): SiteView {
  const doc = isRecord(value) ? value : {};
  const zk = isRecord(doc['zookeeper']) ? doc['zookeeper'] : {};
  const timeout = zk['sessionTimeoutMs'] ?? DEFAULT_SESSION_TIMEOUT_MS;
  const buses = validItems(doc['buses'], (v) => busSchema.safeParse(v));
  const devices = validItems(doc['devices'], (v) => deviceSchema.safeParse(v));
  const names = profileNames(profilesDir);

  const profiles = new Map<string, ProfileRead>();
  const points = new Map<number, LocatedPoint[]>();
  for (const { index, value: device } of devices) {
    let profile: ProfileRead | undefined;
    // A SunSpec device has no profile file: its points are discovered, the config's are extras.
    if (device.profile !== undefined && device.profile !== SUNSPEC_PROFILE) {
      if (!names.includes(device.profile)) continue; // reported by the cross-checks
      profile = profiles.get(device.profile);
      if (profile === undefined) {
        profile = readProfile(device.profile, profilesDir);
        profiles.set(device.profile, profile);
        if (!profile.ok) problems.push(...profile.problems);
      }
      if (!profile.ok) continue;
    }
    points.set(index, mergePoints(['devices', index], device, profile?.ok ? profile : undefined));
  }
  return {
    sessionTimeoutMs: sessionTimeout.safeParse(timeout).data,
    buses,
    busIds: Array.isArray(doc['buses']) ? doc['buses'].flatMap((b: unknown) => (isRecord(b) && typeof b['id'] === 'string' ? [b['id']] : [])) : [],
    devices,
    points,
    profileNames: names,
  };
}

function validItems<T>(list: unknown, parse: (v: unknown) => { success: true; data: T } | { success: false }): Indexed<T>[] {
  if (!Array.isArray(list)) return [];
  const out: Indexed<T>[] = [];
  list.forEach((item: unknown, index) => {
    const r = parse(item);
    if (r.success) out.push({ index, value: r.data });
  });
  return out;
}

function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (!isRecord(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, withoutNulls(x)]));
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resolveConfig(raw: RawConfig, points: Map<number, LocatedPoint[]>, file: string, host: string): SiteConfig {
  const zk = raw.zookeeper;
  return {
    file,
    site: raw.site,
    agent: { id: raw.agent?.id ?? agentIdFromHostname(host) },
    zookeeper: {
      connect: zk.connect,
      root: zk.root ?? '/gridkeeper',
      sessionTimeoutMs: zk.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS,
      ...(zk.auth === undefined ? {} : { auth: { credentialsFile: zk.auth.credentialsFile, commandIssuers: zk.auth.commandIssuers ?? [] } }),
    },
    publish: resolvePublish(raw.publish),
    control: {
      commandTtlMs: raw.control?.commandTtlMs ?? 60_000,
      verifyWrites: raw.control?.verifyWrites ?? true,
      resultsKept: raw.control?.resultsKept ?? 1000,
      resultsMaxAgeMs: raw.control?.resultsMaxAgeMs ?? DEFAULT_RESULTS_MAX_AGE_MS,
    },
    http: { listen: raw.http?.listen ?? '127.0.0.1:8780' },
    log: { level: raw.log?.level ?? 'info' },
    buses: (raw.buses ?? []).map(resolveBus),
    devices: (raw.devices ?? []).map((d, i) => ({
      id: d.id,
      kind: d.kind,
      bus: d.bus,
      unitId: d.unitId ?? 1,
      ...(d.profile === undefined ? {} : { profile: d.profile }),
      pollIntervalMs: d.pollIntervalMs ?? 1000,
      points: (points.get(i) ?? []).map((lp) => resolvePoint(lp.point)),
      ...(d.profile === SUNSPEC_PROFILE ? { sunspec: resolveSunSpec(d.sunspec) } : {}),
      ...(d.watchdog === undefined ? {} : { watchdog: { ...d.watchdog } }),
    })),
  };
}

function checkSnapshotSize(config: SiteConfig, source: YamlSource): void {
  const bytes = estimateSnapshotBytes(config);
  if (bytes > MAX_SNAPSHOT_BYTES) {
    throw new ConfigError([
      source.problem(
        ['devices'],
        `the readings snapshot could reach about ${bytes} bytes, over the limit of ${MAX_SNAPSHOT_BYTES} ` +
          '(ZooKeeper refuses a znode over about 1 MB): use fewer or shorter points, or split the site',
      ),
    ]);
  }
}
