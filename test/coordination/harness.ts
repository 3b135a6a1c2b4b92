// Shared pieces of the coordination tests: the settings of a coordination-only agent (no buses,
// no devices), a tiny CommandHandler that records every applied write with its monotonic time and
// agent (the Modbus-level version of these tests lives with the agent), an operator session (Admin,
// with the operator client SiteClient of any site on it), and small waits.
// Debugging: GRIDKEEPER_TEST_LOG=debug prints every component's log lines; GRIDKEEPER_TEST_ZK_NATIVE_LOG=1
// turns on the ZooKeeper C library's own debug log (stderr).
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { pino, type Logger } from 'pino';
import { systemClock, type Clock } from '../../src/clock.js';
import type { Command, CommandHandler } from '../../src/coordination/command.js';
import { connectSession } from '../../src/coordination/connect.js';
import { ZkError } from '../../src/coordination/errors.js';
import { readCredentialsFile } from '../../src/coordination/credentials.js';
import { SitePaths } from '../../src/coordination/paths.js';
import type { ZkSession } from '../../src/coordination/session.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { SiteCoordinator, type SiteCoordinatorOptions, type SiteCoordinatorSettings } from '../../src/coordination/site-coordinator.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';

export { sleep, waitFor };

/**
 * Quiet unless GRIDKEEPER_TEST_LOG=debug|info|... is set (then JSON lines on stdout). With `sink`,
 * every line at `level` and above is also kept there (parsed), for tests that look at the logs.
 */
export function testLogger(name: string, sink?: { lines: Record<string, unknown>[]; level?: string }): Logger {
  const envLevel = process.env.GRIDKEEPER_TEST_LOG;
  if (!sink) return pino({ level: envLevel ?? 'silent', base: { test: name } });
  const stream = {
    write(line: string): void {
      sink.lines.push(JSON.parse(line) as Record<string, unknown>);
      if (envLevel) process.stdout.write(line);
    },
  };
  return pino({ level: sink.level ?? 'info', base: { test: name } }, stream);
}

let siteCounter = 0;

/** A unique site name per call, so tests sharing a server never see each other's tree. */
export function uniqueSite(prefix = 'site'): string {
  siteCounter++;
  return `${prefix}-${process.pid}-${siteCounter}`;
}

export interface ConfigOverrides {
  site: string;
  agentId: string;
  connect: string;
  sessionTimeoutMs: number;
  root?: string;
  /** Read here, as the agent reads zookeeper.auth.credentialsFile. */
  credentialsFile?: string;
  /** zookeeper.auth.commandIssuers (with credentialsFile). */
  commandIssuers?: string[];
  publishIntervalMs?: number;
  commandTtlMs?: number;
  resultsKept?: number;
  /** control.resultsMaxAgeMs; default a week. */
  resultsMaxAgeMs?: number;
  /** The gate's W; default sessionTimeoutMs / 4, the most config checks allow for a bus timeout. */
  maxWriteMs?: number;
}

/** The settings of an agent with no buses or devices: coordination only. */
export function siteConfig(o: ConfigOverrides): SiteCoordinatorSettings {
  return {
    site: o.site,
    agentId: o.agentId,
    connect: o.connect,
    root: o.root ?? '/gridkeeper',
    sessionTimeoutMs: o.sessionTimeoutMs,
    credentials: o.credentialsFile === undefined ? null : readCredentialsFile(o.credentialsFile),
    commandIssuers: o.commandIssuers ?? [],
    publishIntervalMs: o.publishIntervalMs ?? 200,
    commandTtlMs: o.commandTtlMs ?? 60_000,
    resultsKept: o.resultsKept ?? 1000,
    resultsMaxAgeMs: o.resultsMaxAgeMs ?? 7 * 24 * 3_600_000,
    maxWriteMs: o.maxWriteMs ?? o.sessionTimeoutMs / 4,
  };
}

/** One applied write: which agent, which command value, when (performance.now() of this process). */
export interface WriteRecord {
  agent: string;
  device: string;
  point: string;
  value: unknown;
  atMs: number;
}

/** Point limits the RecordingHandler checks against, like the agent's handler does with the config. */
export const TEST_POINTS: Record<string, Record<string, { type: 'number' | 'bool'; min?: number; max?: number; writable: boolean }>> = {
  'inv-1': {
    activePowerLimit: { type: 'number', min: 0, max: 100, writable: true },
    activePower: { type: 'number', writable: false },
  },
  'bms-1': { enabled: { type: 'bool', writable: true } },
};

/**
 * The tiny in-test CommandHandler: `check` validates against TEST_POINTS; `apply` waits
 * `applyDelayMs`, asks guard() right before "the bytes go out", records the write, and answers the
 * value as read back.
 */
export class RecordingHandler implements CommandHandler {
  readonly checked: Command[] = [];
  readonly applyCalls: Command[] = [];
  refusedByGuard = 0;

  constructor(
    readonly agent: string,
    readonly writes: WriteRecord[],
    private readonly opts: { applyDelayMs?: number; afterWriteMs?: number; failValues?: unknown[] } = {},
  ) {}

  check(cmd: Command): string | null {
    this.checked.push(cmd);
    const device = TEST_POINTS[cmd.device];
    if (!device) return `device: unknown device '${cmd.device}'`;
    const point = device[cmd.point];
    if (!point) return `point: device '${cmd.device}' has no point '${cmd.point}'`;
    if (!point.writable) return `point: ${cmd.device}.${cmd.point} is read-only`;
    if (point.type === 'bool') return typeof cmd.value === 'boolean' ? null : `value: ${cmd.device}.${cmd.point} is a bool`;
    if (typeof cmd.value !== 'number' || !Number.isFinite(cmd.value)) return `value: ${cmd.device}.${cmd.point} is numeric`;
    if (point.min !== undefined && cmd.value < point.min) return `value: ${cmd.value} is below min ${point.min}`;
    if (point.max !== undefined && cmd.value > point.max) return `value: ${cmd.value} is above max ${point.max}`;
    return null;
  }

  async apply(cmd: Command, guard: () => boolean): Promise<{ readBack: unknown }> {
    this.applyCalls.push(cmd);
    if (this.opts.applyDelayMs) await sleep(this.opts.applyDelayMs);
    if (!guard()) {
      this.refusedByGuard++;
      throw new Error('actuation gate closed: write not sent');
    }
    if (this.opts.failValues?.includes(cmd.value)) throw new Error(`Modbus exception 4 (server device failure) writing ${cmd.device}.${cmd.point}`);
    this.writes.push({ agent: this.agent, device: cmd.device, point: cmd.point, value: cmd.value, atMs: performance.now() });
    if (this.opts.afterWriteMs) await sleep(this.opts.afterWriteMs);
    return { readBack: cmd.value };
  }
}

/** A coordinator for tests, with its handler and the events it saw (times are performance.now()). */
export interface TestAgent {
  id: string;
  coordinator: SiteCoordinator;
  handler: RecordingHandler;
  events: { name: string; atMs: number; detail?: unknown }[];
  close(): Promise<void>;
}

export function startAgent(
  config: SiteCoordinatorSettings,
  writes: WriteRecord[],
  opts: {
    handler?: { applyDelayMs?: number; afterWriteMs?: number; failValues?: unknown[] };
    clock?: Clock;
    coordinator?: SiteCoordinatorOptions;
    logSink?: { lines: Record<string, unknown>[]; level?: string };
    /** host and pid of its agent document (default this process's): two agents of one test told apart. */
    identity?: { host: string; pid: number };
  } = {},
): TestAgent {
  const id = config.agentId;
  const handler = new RecordingHandler(id, writes, opts.handler);
  const coordinator = new SiteCoordinator(
    config,
    { logger: testLogger(id, opts.logSink), handler, version: '0.0.0-test', clock: opts.clock ?? systemClock, ...opts.identity },
    { session: { nativeLogLevel: process.env.GRIDKEEPER_TEST_ZK_NATIVE_LOG === '1' ? 4 : 0 }, ...opts.coordinator },
  );
  const events: TestAgent['events'] = [];
  coordinator.on('state', (state, previous) => events.push({ name: `state:${state}`, atMs: performance.now(), detail: previous }));
  coordinator.on('leader', (token) => events.push({ name: 'leader', atMs: performance.now(), detail: token }));
  coordinator.on('follower', (reason) => events.push({ name: 'follower', atMs: performance.now(), detail: reason }));
  coordinator.on('error', (err) => events.push({ name: 'error', atMs: performance.now(), detail: err }));
  coordinator.session.on('session', (sid) => events.push({ name: 'session', atMs: performance.now(), detail: sid }));
  coordinator.start();
  return { id, coordinator, handler, events, close: () => coordinator.close() };
}

/** What a test file shares: one standalone server, an admin client, the agents its tests start. */
export class ZkFixture {
  zk!: ZkServer;
  admin!: Admin;
  /** Agents started by the tests: closed by the fixture. */
  readonly agents: TestAgent[] = [];
  /** Closed right after the agents (e.g. the proxies they talk through). */
  readonly closers: (() => Promise<void>)[] = [];

  async closeAgents(): Promise<void> {
    await Promise.all(this.agents.splice(0).map((a) => a.close()));
    await Promise.all(this.closers.splice(0).map((close) => close()));
  }
}

/**
 * Registers the hooks of a ZkFixture: a server with tick 200 ms and an admin client before the
 * file's tests; the agents (then the closers) after each test or after all of them; the admin
 * client and the server at the end. Hooks a file registers afterwards run inside these
 * (vitest runs after-hooks in reverse order).
 */
export function useZooKeeper(closeAgents: 'afterEach' | 'afterAll'): ZkFixture {
  const fx = new ZkFixture();
  beforeAll(async () => {
    fx.zk = await startZooKeeper({ tickTimeMs: 200 });
    fx.admin = await Admin.open(fx.zk.connectString);
  });
  if (closeAgents === 'afterEach') afterEach(() => fx.closeAgents());
  afterAll(async () => {
    await fx.closeAgents();
    await fx.admin?.close();
    await fx.zk?.stop();
  });
  return fx;
}

/**
 * An operator's session on the test server. `site(paths)` is the operator client of one site on it
 * (SiteClient: submit, results, pending commands, lock queue, documents and Stats). `session` is
 * the raw session, only for what no operator client offers: creates, sets and deletes anywhere (ACL
 * checks, a lock node deleted behind its agent's back) and nodes outside any site.
 */
export class Admin {
  private constructor(readonly session: ZkSession) {}

  static async open(connect: string, opts: { credentialsFile?: string; sessionTimeoutMs?: number } = {}): Promise<Admin> {
    const session = await connectSession(
      {
        connect,
        sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
        // Generous: a first connect on 2 shared cores, possibly to a freshly elected ensemble.
        connectTimeoutMs: 30_000,
        nativeLogLevel: process.env.GRIDKEEPER_TEST_ZK_NATIVE_LOG === '1' ? 4 : 0,
        ...(opts.credentialsFile === undefined ? {} : { credentialsFile: opts.credentialsFile }),
      },
      { logger: testLogger('admin'), clock: systemClock },
    );
    return new Admin(session);
  }

  /** The operator client of the site at `paths`, on this session (it closes with the Admin). */
  site(paths: SitePaths): SiteClient {
    return new SiteClient(this.session, paths);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

/** Waits for `agent` to become leader (its coordinator says so). */
export function waitForLeader(agent: TestAgent, timeoutMs: number): Promise<string> {
  return waitFor(`${agent.id} to hold the site lock`, () => agent.coordinator.token ?? undefined, { timeoutMs, intervalMs: 20 });
}

export function pathsOf(config: SiteCoordinatorSettings): SitePaths {
  return new SitePaths(config.root, config.site);
}

/** The ZooKeeper error code `p` fails with, 'OK' when it succeeds (ACL checks: 'NOAUTH' or 'OK'). */
export async function zkCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return err instanceof ZkError ? err.code : String(err);
  }
}

/** Writes a credentials file `name` in `dir` holding `line` (`user:secret`), mode 0600 whatever the umask. */
export function writeCredentials(dir: string, name: string, line: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${line}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}
