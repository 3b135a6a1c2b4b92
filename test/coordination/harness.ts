// Shared pieces of the coordination tests: a SiteConfig for a coordination-only agent (no buses,
// no devices), a tiny CommandHandler that records every applied write with its monotonic time and
// agent (the Modbus-level version of these tests lives with the agent), an admin session that
// submits commands and reads the tree, and small waits.
// Debugging: GRIDKEEPER_TEST_LOG=debug prints every component's log lines; GRIDKEEPER_TEST_ZK_NATIVE_LOG=1
// turns on the ZooKeeper C library's own debug log (stderr).
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { pino, type Logger } from 'pino';
import type { SiteConfig } from '../../src/config/types.js';
import { systemClock, type Clock } from '../../src/coordination/clock.js';
import type { Command, CommandHandler, ResultDocument } from '../../src/coordination/command.js';
import { isZkError } from '../../src/coordination/errors.js';
import { SitePaths, sortBySequence } from '../../src/coordination/paths.js';
import { ZkSession } from '../../src/coordination/session.js';
import { SiteCoordinator, type SiteCoordinatorOptions } from '../../src/coordination/site-coordinator.js';
import { ensurePath } from '../../src/coordination/tree.js';
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
  credentialsFile?: string;
  /** zookeeper.auth.commandIssuers (with credentialsFile). */
  commandIssuers?: string[];
  publishIntervalMs?: number;
  commandTtlMs?: number;
  resultsKept?: number;
}

/** A site config with no buses or devices: coordination only. */
export function siteConfig(o: ConfigOverrides): SiteConfig {
  return {
    file: `/test/${o.site}.yaml`,
    site: o.site,
    agent: { id: o.agentId },
    zookeeper: {
      connect: o.connect,
      root: o.root ?? '/gridkeeper',
      sessionTimeoutMs: o.sessionTimeoutMs,
      ...(o.credentialsFile === undefined
        ? {}
        : { auth: { credentialsFile: o.credentialsFile, ...(o.commandIssuers ? { commandIssuers: o.commandIssuers } : {}) } }),
    },
    publish: { intervalMs: o.publishIntervalMs ?? 200 },
    control: { commandTtlMs: o.commandTtlMs ?? 60_000, verifyWrites: true, resultsKept: o.resultsKept ?? 1000 },
    http: { listen: false },
    log: { level: 'info' },
    buses: [],
    devices: [],
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
  config: SiteConfig,
  writes: WriteRecord[],
  opts: {
    handler?: { applyDelayMs?: number; afterWriteMs?: number; failValues?: unknown[] };
    clock?: Clock;
    coordinator?: SiteCoordinatorOptions;
    logSink?: { lines: Record<string, unknown>[]; level?: string };
  } = {},
): TestAgent {
  const id = config.agent.id;
  const handler = new RecordingHandler(id, writes, opts.handler);
  const coordinator = new SiteCoordinator(
    config,
    { logger: testLogger(id, opts.logSink), handler, version: '0.0.0-test', clock: opts.clock ?? systemClock },
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
    fx.admin = await new Admin(fx.zk.connectString).start();
  });
  if (closeAgents === 'afterEach') afterEach(() => fx.closeAgents());
  afterAll(async () => {
    await fx.closeAgents();
    await fx.admin?.close();
    await fx.zk?.stop();
  });
  return fx;
}

/** An operator's view: submits commands and reads the tree, directly on the server. */
export class Admin {
  readonly session: ZkSession;

  constructor(connect: string, opts: { credentialsFile?: string; sessionTimeoutMs?: number } = {}) {
    this.session = new ZkSession(
      {
        connect,
        sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
        nativeLogLevel: process.env.GRIDKEEPER_TEST_ZK_NATIVE_LOG === '1' ? 4 : 0,
        ...(opts.credentialsFile === undefined ? {} : { credentialsFile: opts.credentialsFile }),
      },
      { logger: testLogger('admin'), clock: systemClock },
    );
  }

  async start(): Promise<this> {
    this.session.start();
    await this.session.whenConnected();
    return this;
  }

  close(): Promise<void> {
    return this.session.close();
  }

  /** Creates commands/cmd-N with `doc` (a string is written as is); returns `cmd-N`. */
  async submit(paths: SitePaths, doc: unknown): Promise<string> {
    const data = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
    let created: string;
    try {
      created = await this.session.create(`${paths.commands}/cmd-`, data, 'persistent_sequential');
    } catch (err) {
      if (!isZkError(err, 'NONODE')) throw err;
      await ensurePath(this.session, paths.commands, null); // no agent has made the tree yet
      created = await this.session.create(`${paths.commands}/cmd-`, data, 'persistent_sequential');
    }
    return created.slice(created.lastIndexOf('/') + 1);
  }

  async result(paths: SitePaths, name: string): Promise<ResultDocument | null> {
    try {
      const { data } = await this.session.get(paths.result(name));
      return JSON.parse(data.toString('utf8')) as ResultDocument;
    } catch {
      return null;
    }
  }

  async children(path: string): Promise<string[]> {
    try {
      return await this.session.getChildren(path);
    } catch {
      return [];
    }
  }

  async pendingCommands(paths: SitePaths): Promise<string[]> {
    return sortBySequence(await this.children(paths.commands), 'cmd-').map((c) => c.name);
  }

  /** Waits until every named command has a result and none is pending; returns the results. */
  async waitForResults(paths: SitePaths, names: readonly string[], timeoutMs: number): Promise<Map<string, ResultDocument>> {
    return waitFor(
      `results for ${names.length} commands`,
      async () => {
        const pending = new Set(await this.pendingCommands(paths));
        const results = new Map<string, ResultDocument>();
        for (const name of names) {
          if (pending.has(name)) return undefined;
          const r = await this.result(paths, name);
          if (r === null) return undefined;
          results.set(name, r);
        }
        return results;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }
}

/** Waits for `agent` to become leader (its coordinator says so). */
export function waitForLeader(agent: TestAgent, timeoutMs: number): Promise<string> {
  return waitFor(`${agent.id} to hold the site lock`, () => agent.coordinator.token ?? undefined, { timeoutMs, intervalMs: 20 });
}

export function pathsOf(config: SiteConfig): SitePaths {
  return new SitePaths(config.zookeeper.root, config.site);
}
