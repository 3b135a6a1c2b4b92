// SiteClient: the operator's side of one site's tree (CONTRACT.md section 3), the one client for
// whatever is not an agent: `gridkeeper status` and `command`, the demo, the bench, the tests. It
// submits commands and waits for their results, and reads the lock queue, the agents, their
// readings, the results and the pending commands. It never acts as an agent: it creates nothing but
// commands (and commands/ itself when no agent has made the tree yet).
//
//   const client = await SiteClient.open({ connect, site: 'north-farm' }, { logger });
//   const id = await client.submit({ device: 'inv-1', point: 'activePowerLimit', value: 50 });
//   const result = await client.awaitResult(id, 10_000);   // null: none within 10 s, still queued
//   await client.close();
//
// Bad data in the tree is shown, never fatal: a document that is no JSON object reads as null (or
// its raw text where it is shown); only a result that is not a result document throws
// InvalidDocumentError, since a caller waiting for it must learn that waiting longer cannot help.
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import type { ResultDocument } from './command.js';
import { connectSession } from './connect.js';
import { objectOrText, parseObject, parseResult } from './documents.js';
import { commandNodeAcl } from './acl.js';
import { requireChroot } from './chroot.js';
import { CoordinationTimeoutError, InvalidDocumentError, isZkError, ZkError } from './errors.js';
import { COMMAND_PREFIX, DEFAULT_ROOT, LOCK_PREFIX, lockName, nodeName, SitePaths, sortBySequence } from './paths.js';
import type { ZkSession } from './session.js';
import { readSiteView, type SiteView } from './site-view.js';
import { ensurePath } from './tree.js';
import type { ZkStat } from './zk-client.js';

/** A wait on a watch also looks again this often, ms: a watch set on a session since lost never fires. */
const RECHECK_MS = 1000;

export interface SiteClientOptions {
  connect: string;
  site: string;
  /** zookeeper.root of the site's agents. Default /gridkeeper. */
  root?: string;
  /** Requested session timeout, ms. Default 10000. */
  sessionTimeoutMs?: number;
  /** open() gives up when no session is established within this, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** One line `user:password`, mode 0600: needed to submit where commands/ is closed to strangers. */
  credentialsFile?: string;
  /** The C library's stderr log: 0 off .. 4 debug. Default 0. */
  nativeLogLevel?: 0 | 1 | 2 | 3 | 4;
}

/** One node of the lock queue; the first in lockQueue() holds the lock. */
export interface LockQueueEntry {
  /** The child's name, `<unique>-lock-0000000007`. */
  node: string;
  /** `lock-0000000007`: the part results name. */
  lock: string;
  /** As the node's data says; null when it names none. */
  agentId: string | null;
  /** czxid of the node, decimal: the fencing token of its holder. */
  token: string;
  /** When the node was created, by ZooKeeper's clock (ISO 8601). */
  since: string;
}

/** A command no holder has handled yet. */
export interface PendingCommand {
  /** `cmd-0000000042`. */
  id: string;
  /** When it was submitted, by ZooKeeper's clock (ISO 8601). */
  createdAt: string;
  /** As written: a JSON object, or the raw text when it is none. */
  command: Record<string, unknown> | string;
}

export class SiteClient {
  private readonly clock: Clock;
  /** Opened by open(), so closed by close(); a session handed in belongs to the caller. */
  private ownsSession = false;

  /** A client on a session the caller owns and closes (several sites can share one). */
  constructor(
    private readonly session: ZkSession,
    readonly paths: SitePaths,
    deps: { clock?: Clock } = {},
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  /**
   * A client on a session of its own; see connectSession for what it throws, and ChrootMissingError
   * for a connect string whose chroot does not exist.
   */
  static async open(opts: SiteClientOptions, deps: { logger: Logger; clock?: Clock }): Promise<SiteClient> {
    const paths = new SitePaths(opts.root ?? DEFAULT_ROOT, opts.site);
    const session = await connectSession(
      {
        connect: opts.connect,
        sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
        connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
        ...(opts.credentialsFile === undefined ? {} : { credentialsFile: opts.credentialsFile }),
        ...(opts.nativeLogLevel === undefined ? {} : { nativeLogLevel: opts.nativeLogLevel }),
      },
      deps,
    );
    try {
      await requireChroot(session);
    } catch (err) {
      await session.close();
      throw err;
    }
    const client = new SiteClient(session, paths, deps);
    client.ownsSession = true;
    return client;
  }

  /** Closes the session if open() made it (at once; safe to call twice). */
  async close(): Promise<void> {
    if (this.ownsSession) await this.session.close();
  }

  // ---- commands and results ---------------------------------------------------------------------

  /**
   * Creates `commands/cmd-N` and returns `cmd-N`. An object is written as JSON, a string as it is
   * (any program may write anything there; the holder rejects what is no command).
   */
  async submit(doc: Readonly<Record<string, unknown>> | string): Promise<string> {
    const data = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
    let created: string;
    try {
      created = await this.session.create(this.paths.newCommand(), data, 'persistent_sequential');
    } catch (err) {
      if (!isZkError(err, 'NONODE')) throw err;
      // No agent has made the site's tree yet: make commands/ so the command waits for one.
      await ensurePath(this.session, this.paths.commands, null);
      created = await this.session.create(this.paths.newCommand(), data, 'persistent_sequential');
    }
    // Closed right away; a change made before this lands bumps the data version, and the holder
    // rejects such a command as modified. A holder may be quicker still: the command is handled and
    // deleted already (NONODE), and its result is there to read.
    try {
      await this.session.setAcl(created, commandNodeAcl(this.session.digestId));
    } catch (err) {
      if (!isZkError(err, 'NONODE')) throw err;
    }
    return nodeName(created);
  }

  /** The result of command `id` as soon as it exists (exists-watch, then get); null after `timeoutMs`. */
  awaitResult(id: string, timeoutMs: number): Promise<ResultDocument | null> {
    return this.watchUntil(this.paths.result(id), timeoutMs, (stat) => (stat === null ? Promise.resolve(null) : this.result(id)));
  }

  /**
   * Waits until each of `ids` has its result and has left commands/ (the holder deletes a command
   * once its result is written); returns every result of the site then. Throws
   * CoordinationTimeoutError naming the first command still waiting after `timeoutMs`.
   */
  async awaitResults(ids: readonly string[], timeoutMs: number): Promise<Map<string, ResultDocument>> {
    const deadline = this.clock.monotonicMs() + timeoutMs;
    const what = (id: string, state: string): string => `results of ${ids.length} commands of site ${this.paths.siteId}: ${id} ${state}`;
    for (const id of ids) {
      const result = await this.awaitResult(id, deadline - this.clock.monotonicMs());
      if (result === null) throw new CoordinationTimeoutError(what(id, 'has no result'), timeoutMs);
    }
    for (const id of ids) {
      const gone = await this.watchUntil(this.paths.command(id), deadline - this.clock.monotonicMs(), (stat) => Promise.resolve(stat === null ? true : null));
      if (gone === null) throw new CoordinationTimeoutError(what(id, 'is still in commands/'), timeoutMs);
    }
    return this.results();
  }

  /** The result of command `id`, null while there is none; InvalidDocumentError when it is no result document. */
  async result(id: string): Promise<ResultDocument | null> {
    const path = this.paths.result(id);
    const node = await this.node(path);
    if (node === null) return null;
    const parsed = parseResult(node.data);
    if (!parsed.ok) throw new InvalidDocumentError(path, parsed.reason);
    return parsed.result;
  }

  /** Every result of the site, by command id, oldest first. */
  async results(): Promise<Map<string, ResultDocument>> {
    const out = new Map<string, ResultDocument>();
    for (const id of await this.resultIds()) {
      const result = await this.result(id);
      if (result !== null) out.set(id, result); // pruned between the listing and the read
    }
    return out;
  }

  /** Ids of the commands with a result, oldest first. */
  async resultIds(): Promise<string[]> {
    return sortBySequence(await this.children(this.paths.results), COMMAND_PREFIX).map((c) => c.name);
  }

  /** Commands waiting in commands/, in the order the holder takes them. */
  async pendingCommands(): Promise<PendingCommand[]> {
    const out: PendingCommand[] = [];
    for (const { name } of sortBySequence(await this.children(this.paths.commands), COMMAND_PREFIX)) {
      const node = await this.node(this.paths.command(name));
      if (node !== null) out.push({ id: name, createdAt: new Date(node.stat.ctimeMs).toISOString(), command: objectOrText(node.data) });
    }
    return out;
  }

  // ---- agents, lock, readings -------------------------------------------------------------------

  /** The lock queue, lowest first: the first entry holds the lock, the others wait in this order. */
  async lockQueue(): Promise<LockQueueEntry[]> {
    const out: LockQueueEntry[] = [];
    for (const { name } of sortBySequence(await this.children(this.paths.lock), LOCK_PREFIX)) {
      const node = await this.node(this.paths.lockNode(name));
      if (node === null) continue; // released between the listing and the read
      const agentId = parseObject(node.data)?.agentId;
      out.push({
        node: name,
        lock: lockName(name),
        agentId: typeof agentId === 'string' ? agentId : null,
        token: String(node.stat.czxid),
        since: new Date(node.stat.ctimeMs).toISOString(),
      });
    }
    return out;
  }

  /** Ids of the agents with a live session (their agents/ nodes), sorted. */
  agents(): Promise<string[]> {
    return this.children(this.paths.agents);
  }

  /** The agent document of `agentId`; null when absent or no JSON object. */
  agent(agentId: string): Promise<Record<string, unknown> | null> {
    return this.readJson(this.paths.agent(agentId));
  }

  /** The readings snapshot `agentId` published last; null when absent or no JSON object. */
  readings(agentId: string): Promise<Record<string, unknown> | null> {
    return this.readJson(this.paths.reading(agentId));
  }

  /** What `gridkeeper status` shows. */
  view(): Promise<SiteView> {
    return readSiteView(this, this.clock);
  }

  // ---- any node ---------------------------------------------------------------------------------

  /** Children of `path`, sorted by name; [] when it does not exist. */
  async children(path: string): Promise<string[]> {
    try {
      return (await this.session.getChildren(path)).sort();
    } catch (err) {
      if (isZkError(err, 'NONODE')) return [];
      throw err;
    }
  }

  /** Data and Stat of `path`; null when it does not exist. */
  async node(path: string): Promise<{ data: Buffer; stat: ZkStat } | null> {
    try {
      return await this.session.get(path);
    } catch (err) {
      if (isZkError(err, 'NONODE')) return null;
      throw err;
    }
  }

  /** Stat of `path`; null when it does not exist. */
  stat(path: string): Promise<ZkStat | null> {
    return this.session.exists(path);
  }

  /** The JSON object in `path`; null when absent or no JSON object. */
  async readJson(path: string): Promise<Record<string, unknown> | null> {
    const node = await this.node(path);
    return node === null ? null : parseObject(node.data);
  }

  /**
   * Calls `check` with the Stat of `path` (null: no node) until it answers non-null: at once, on
   * every change of the node (an exists-watch) and every RECHECK_MS. Null once `timeoutMs` passed.
   * While the link is down nothing is checked; the next round asks again.
   */
  private async watchUntil<T>(path: string, timeoutMs: number, check: (stat: ZkStat | null) => Promise<T | null>): Promise<T | null> {
    const deadline = this.clock.monotonicMs() + timeoutMs;
    for (;;) {
      let wake: () => void = () => undefined;
      const changed = new Promise<void>((resolve) => (wake = resolve));
      try {
        const value = await check(await this.session.exists(path, () => wake()));
        if (value !== null) return value;
      } catch (err) {
        if (!(err instanceof ZkError && err.retryable && err.code !== 'CLOSING')) throw err;
      }
      const leftMs = deadline - this.clock.monotonicMs();
      if (leftMs <= 0) return null;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([changed, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(leftMs, RECHECK_MS))))]);
      clearTimeout(timer);
    }
  }
}
