// Shared pieces of the end-to-end tests: they run the BUILT CLI (`./bin/gridkeeper`, from dist/) as
// real processes against a real ZooKeeper and a simulator process (`gridkeeper simulate
// --write-log`), and look at the outcome from outside: the ZooKeeper tree through the operator's
// client (SiteClient, as `gridkeeper status` reads it), the simulator's write log, the agents' JSON
// log lines and their HTTP endpoint.
//
//   const zk = await startZooKeeper();
//   const site = await E2eSite.start({ zkConnect: zk.connectString });  // config + simulator
//   const a = site.startAgent('gw-a');                                  // gridkeeper run
//   await a.leader();                                                   // 'site lock acquired: leader'
//   const op = await site.client();                                     // SiteClient of the site
//   const id = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42 });
//   const results = await op.awaitResults([id], 10_000);
//   site.writes();                                                      // what the devices received
//
// Everything a test starts is a tracked child (killAllChildren() in afterAll), site clients are
// closed by closeSiteClients() (afterAll), and configs live in a temp dir removed when the test
// process ends.
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { DEFAULT_ROOT, SitePaths } from '../../src/coordination/paths.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import {
  freePort,
  killAllChildren,
  runToCompletion,
  spawnGridkeeper,
  GRIDKEEPER_BIN,
  type ChildHandle,
  type ExitStatus,
  type SpawnOptions,
} from '../../tools/devtools/processes.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { startZooKeeper, type ZkOptions, type ZkServer } from '../../tools/devtools/zookeeper.js';

export const ROOT = DEFAULT_ROOT;

// ---- site configs -------------------------------------------------------------------------------

export interface SiteOptions {
  zkConnect: string;
  /** Default: a unique name per call (tests sharing one ZooKeeper never see each other's tree). */
  site?: string;
  /**
   * Short, so failover tests take seconds. The config check wants every bus timeoutMs <=
   * sessionTimeoutMs / 4: with 3000 the bus timeout of 500 ms passes (limit 750).
   */
  sessionTimeoutMs?: number;
  commandTtlMs?: number;
  publishIntervalMs?: number;
  pollIntervalMs?: number;
  busTimeoutMs?: number;
  /** Keys added to a device's entry, by device id (extra points, a watchdog), for agents and simulator alike. */
  deviceKeys?: Record<string, Record<string, unknown>>;
}

let siteCounter = 0;

/** `e2e-<prefix>-<pid>-<n>`: unique per test file process and call, valid as a site name. */
export function uniqueSiteName(prefix: string): string {
  siteCounter++;
  return `e2e-${prefix}-${process.pid}-${siteCounter}`;
}

/** One simulated write, as `gridkeeper simulate --write-log` records it (src/simulator/write-record.ts). */
export interface WriteLogEntry {
  atMs: number;
  device: string;
  unitId: number;
  fc: number;
  table: string;
  address: number;
  values: number[];
  peer: string;
  outcome: string;
  exceptionCode: number | null;
}

/** activePowerLimit of the generic inverter: holding 120, uint16 in 0.1 % steps (profiles/generic-inverter.yaml). */
export const LIMIT_REGISTER = 120;
export const LIMIT_SCALE = 0.1;

export interface AgentProcess {
  readonly id: string;
  readonly child: ChildHandle;
  readonly configFile: string;
  readonly httpPort: number;
  /** Waits for 'site lock acquired: leader'; returns the log line (its `token`, `time`). */
  leader(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** GET /healthz as JSON (with the HTTP status). */
  health(): Promise<{ httpStatus: number; body: Record<string, unknown> }>;
  /** GET /metrics as text. */
  metrics(): Promise<string>;
}

/**
 * One site of an end-to-end test: its config files in a temp dir and its simulated devices (a
 * `gridkeeper simulate` process on a free port, frozen so values do not drift, logging every
 * write it receives). Agents are started with startAgent().
 */
export class E2eSite {
  readonly site: string;
  readonly paths: SitePaths;
  readonly dir: string;
  readonly writeLog: string;
  readonly sessionTimeoutMs: number;
  private simulator: ChildHandle | null = null;
  private operator: Promise<SiteClient> | null = null;

  private constructor(
    private readonly opts: SiteOptions,
    readonly modbusPort: number,
  ) {
    this.site = opts.site ?? uniqueSiteName('site');
    this.paths = new SitePaths(ROOT, this.site);
    this.dir = makeTempDir('e2e');
    this.writeLog = path.join(this.dir, 'writes.jsonl');
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 3000;
  }

  /** Writes the simulator's config and starts it; resolves once it prints `ready`. */
  static async start(opts: SiteOptions): Promise<E2eSite> {
    const site = new E2eSite(opts, await freePort());
    await site.startSimulator();
    return site;
  }

  /** The operator's client of this site (one per site, opened on first use). */
  client(): Promise<SiteClient> {
    this.operator ??= openSiteClient(this.opts.zkConnect, this.site);
    return this.operator;
  }

  /** The config document of one agent (or of the simulator: agent id and HTTP do not matter there). */
  configDoc(agentId: string, o: { httpPort: number | false; zkConnect?: string }): Record<string, unknown> {
    return {
      site: this.site,
      agent: { id: agentId },
      zookeeper: { connect: o.zkConnect ?? this.opts.zkConnect, root: ROOT, sessionTimeoutMs: this.sessionTimeoutMs },
      publish: { intervalMs: this.opts.publishIntervalMs ?? 200 },
      control: { commandTtlMs: this.opts.commandTtlMs ?? 60_000, verifyWrites: true },
      http: { listen: o.httpPort === false ? false : `127.0.0.1:${o.httpPort}` },
      log: { level: 'info' },
      buses: [{ id: 'lan', type: 'tcp', host: '127.0.0.1', port: this.modbusPort, timeoutMs: this.opts.busTimeoutMs ?? 500 }],
      devices: [
        { id: 'inv-1', kind: 'inverter', bus: 'lan', unitId: 1, profile: 'generic-inverter', pollIntervalMs: this.opts.pollIntervalMs ?? 300, ...this.opts.deviceKeys?.['inv-1'] },
        { id: 'wt-1', kind: 'turbine', bus: 'lan', unitId: 2, profile: 'generic-turbine', pollIntervalMs: this.opts.pollIntervalMs ?? 300, ...this.opts.deviceKeys?.['wt-1'] },
      ],
    };
  }

  /** Writes `doc` as YAML into the site's dir, checked with the product's own parser first. */
  writeConfig(name: string, doc: Record<string, unknown>): string {
    const file = path.join(this.dir, `${name}.yaml`);
    const text = stringify(doc);
    parseConfig(text, file); // throws ConfigError naming the problem: a broken test config fails here, not in a child
    fs.writeFileSync(file, text);
    return file;
  }

  /** `gridkeeper run` for `agentId` on a fresh HTTP port; `zkConnect` overrides (e.g. a proxy). */
  async startAgent(agentId: string, o: { zkConnect?: string; env?: Record<string, string> } = {}): Promise<AgentProcess> {
    const httpPort = await freePort();
    const configFile = this.writeConfig(`${agentId}-${httpPort}`, this.configDoc(agentId, { httpPort, ...(o.zkConnect ? { zkConnect: o.zkConnect } : {}) }));
    const child = spawnGridkeeper(['run', '--config', configFile], { label: `agent ${agentId} (${this.site})`, env: { LOG_LEVEL: 'info', ...o.env } });
    return agentProcess(agentId, child, configFile, httpPort);
  }

  private async startSimulator(): Promise<void> {
    const config = this.writeConfig('simulator', this.configDoc('simulator', { httpPort: false }));
    const sim = spawnGridkeeper(['simulate', '--config', config, '--write-log', this.writeLog, '--freeze'], {
      label: `simulator (${this.site})`,
      env: { LOG_LEVEL: 'warn' },
    });
    // JVMs and node processes share 2 cores during the suite: a start can take a few seconds.
    await sim.waitForLine('ready', 20_000);
    this.simulator = sim;
  }

  /** Every write the simulated devices received so far, in arrival order. */
  writes(): WriteLogEntry[] {
    if (!fs.existsSync(this.writeLog)) return [];
    return fs
      .readFileSync(this.writeLog, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as WriteLogEntry);
  }

  /** Writes of inv-1.activePowerLimit, as the % value written. */
  limitWrites(): Array<WriteLogEntry & { percent: number }> {
    return this.writes()
      .filter((w) => w.device === 'inv-1' && w.table === 'holding' && w.address === LIMIT_REGISTER)
      .map((w) => ({ ...w, percent: Math.round((w.values[0] ?? NaN) * LIMIT_SCALE * 10) / 10 }));
  }

  async stopSimulator(): Promise<void> {
    await this.simulator?.stop(3000);
  }

  /** After stopSimulator(): the devices come back, on the same port. */
  async restartSimulator(): Promise<void> {
    await this.startSimulator();
  }
}

export function agentProcess(id: string, child: ChildHandle, configFile: string, httpPort: number): AgentProcess {
  const base = `http://127.0.0.1:${httpPort}`;
  return {
    id,
    child,
    configFile,
    httpPort,
    leader: (timeoutMs = 20_000) => child.waitForJson((o) => o.msg === 'site lock acquired: leader', timeoutMs),
    health: async () => {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(3000) });
      return { httpStatus: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    metrics: async () => {
      const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(3000) });
      return res.text();
    },
  };
}

/** Log lines (JSON objects) of a child with this `msg`. */
export function logLines(child: ChildHandle, msg: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of child.lines) {
    if (!line.startsWith('{')) continue;
    try {
      const obj = JSON.parse(line) as Record<string, unknown>;
      if (obj.msg === msg) out.push(obj);
    } catch {
      // not a log line
    }
  }
  return out;
}

/** The pino `time` (epoch ms) of a log line. */
export function timeOf(line: Record<string, unknown>): number {
  if (typeof line.time !== 'number') throw new Error(`log line without a numeric time: ${JSON.stringify(line)}`);
  return line.time;
}

// ---- the CLI ------------------------------------------------------------------------------------

export interface CliRun extends ExitStatus {
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** `gridkeeper ARGS` to completion (killed after `timeoutMs`, default 30 s). */
export function gridkeeper(args: string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<CliRun> {
  return runToCompletion(process.execPath, [GRIDKEEPER_BIN, ...args], { label: `gridkeeper ${args.join(' ')}`, ...opts });
}

// ---- the ZooKeeper tree, seen from outside ------------------------------------------------------

const siteClients = new Set<SiteClient>();

/** An operator client of `site` on a session of its own, as `gridkeeper status` and `command` use. */
export async function openSiteClient(zkConnect: string, site: string): Promise<SiteClient> {
  // Generous: a first connect on 2 shared cores, possibly right after the server started.
  const client = await SiteClient.open({ connect: zkConnect, root: ROOT, site, connectTimeoutMs: 15_000 }, { logger: pino({ level: 'silent' }) });
  siteClients.add(client);
  return client;
}

/** Closes every client openSiteClient() opened (closing one twice is harmless). For afterAll. */
export async function closeSiteClients(): Promise<void> {
  const clients = [...siteClients];
  siteClients.clear();
  await Promise.all(clients.map((c) => c.close()));
}

/**
 * Call at the top of an e2e file: one ZooKeeper server for its tests, started before the first;
 * after the last, every child process killed, the site clients closed and the server stopped.
 */
export function e2eSuite(opts: ZkOptions = {}): { readonly zk: ZkServer } {
  let server: ZkServer | undefined;
  beforeAll(async () => {
    server = await startZooKeeper(opts);
  });
  afterAll(async () => {
    await killAllChildren();
    await closeSiteClients();
    await server?.stop();
  });
  return {
    get zk(): ZkServer {
      if (server === undefined) throw new Error('ZooKeeper is started in beforeAll: use suite.zk inside a test');
      return server;
    },
  };
}

/** Starts gw-a (with `aOpts`), waits until it leads, then gw-b as standby (its lock node queued behind gw-a's). */
export async function leaderAndStandby(site: E2eSite, aOpts: { zkConnect?: string } = {}): Promise<{ a: AgentProcess; b: AgentProcess; tokenA: string }> {
  const a = await site.startAgent('gw-a', aOpts);
  const leaderLine = await a.leader();
  const b = await site.startAgent('gw-b');
  await b.child.waitForJson((o) => o.msg === 'lock node created; queued for the site lock', 20_000);
  return { a, b, tokenA: String(leaderLine.token) };
}
