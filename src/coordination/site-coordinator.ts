// SiteCoordinator: what the agent uses of ZooKeeper, wired from the settings the agent hands in.
//   session -> site tree (ACLs) -> agents/<id> (waits out a lingering node of our previous process)
//           -> readings/<id> -> site lock -> actuation gate -> held setpoints -> command queue
// start() never waits for ZooKeeper (it may be down; the session retries forever); `ready()` resolves
// once our agent node exists and we are queued for the lock. close() is the SIGTERM path: finish the
// write in flight, delete our lock node, close the session so our ephemeral nodes vanish at once.
// Another live agent with our id (its agents/ node outlives a session timeout): we report it
// (agent-conflict.ts: one error line, `duplicateOf`, a conflicts/ node) and go on waiting for the
// node, without publishing readings or queueing for the lock; when it goes we carry on as usual.
// Every time we write (startedAt, publishedAt, results, setpoints) is `wallClock`: the local clock
// corrected by ZooKeeper's (ServerClock, learnt from our own writes; CONTRACT.md section 9).
import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { Logger } from 'pino';
import { siteAcls, type SiteAcls } from './acl.js';
import { ActuationGate } from './actuation-gate.js';
import { AgentConflict, type DuplicateOf } from './agent-conflict.js';
import { CLOCK_OFF_WARN_MS, CorrectedClock, systemClock, type Clock } from '../clock.js';
import type { CommandHandler, CommandStatus, ResultDocument } from './command.js';
import { CommandQueue } from './command-queue.js';
import { digestAclId, type DigestCredentials } from './credentials.js';
import { EphemeralNode } from './ephemeral-node.js';
import { DuplicateAgentError, ZK_RC, ZkError } from './errors.js';
import { HeldSetpoints } from './held-setpoints.js';
import { SitePaths } from './paths.js';
import { ServerClock } from './server-clock.js';
import { ZkSession, type SessionState, type ZkSessionOptions } from './session.js';
import { SiteLock } from './site-lock.js';
import { sleep } from './timeout.js';
import { ensureSiteTree } from './tree.js';

/** What coordination needs to know of the site, as plain values (the agent builds them from its config). */
export interface SiteCoordinatorSettings {
  site: string;
  agentId: string;
  /** ZooKeeper connect string, `host:port,...` (a chroot suffix allowed). */
  connect: string;
  /** Root of gridkeeper's tree, e.g. `/gridkeeper`. */
  root: string;
  /** Requested; the server may grant less (the gate then works with what it granted). */
  sessionTimeoutMs: number;
  /** The agents' digest credentials, already read (readCredentialsFile); null: no auth, open ACLs. */
  credentials: DigestCredentials | null;
  /** ACL ids (`scheme:id`) allowed to create commands (see acl.ts); used only with credentials. */
  commandIssuers: readonly string[];
  /** At most one write of our agent and readings nodes per interval. */
  publishIntervalMs: number;
  /** TTL of a command that carries none, by ZooKeeper's clock. */
  commandTtlMs: number;
  /** Results kept under results/; older ones are pruned. */
  resultsKept: number;
  /** Results older than this by ZooKeeper's clock are pruned too, ms (results-pruner.ts). */
  resultsMaxAgeMs: number;
  /**
   * W of the actuation gate's timing rule (actuation-gate.ts): the longest a device write may take
   * once guard() said yes, i.e. the largest bus timeoutMs. Config checks keep it <= sessionTimeoutMs / 4.
   */
  maxWriteMs: number;
}

export interface SiteCoordinatorDeps {
  logger: Logger;
  handler: CommandHandler;
  /** gridkeeper's version, for the agent document. */
  version: string;
  /** The local clock; `wallClock` corrects it by ZooKeeper's. */
  clock?: Clock;
  /** ZooKeeper's clock as learnt from our writes: the agent's, so that it stamps by the same; default a new one. */
  serverClock?: ServerClock;
  host?: string;
  pid?: number;
}

export interface SiteCoordinatorOptions {
  /** Passed to the session (backoff, stall fraction, native log level...). */
  session?: Partial<Omit<ZkSessionOptions, 'connect' | 'sessionTimeoutMs' | 'credentials'>>;
}

export interface SiteCoordinatorEvents {
  state: [state: SessionState, previous: SessionState];
  leader: [token: string];
  follower: [reason: string];
  result: [name: string, result: ResultDocument];
  /** Another live agent holds our agent node (null: not any more); see duplicateOf. */
  duplicate: [other: DuplicateOf | null];
  /** DuplicateAgentError (another live agent has our id; not fatal), ZnodeTooLargeError, ... */
  error: [err: Error];
}

export class SiteCoordinator extends EventEmitter<SiteCoordinatorEvents> {
  readonly paths: SitePaths;
  readonly session: ZkSession;
  readonly lock: SiteLock;
  readonly gate: ActuationGate;
  readonly serverClock: ServerClock;
  /** The wall clock of every time we write: the local one corrected by serverClock once it has a sample. */
  readonly wallClock: CorrectedClock;
  /** Held setpoints (CONTRACT.md section 7): re-asserted on takeover, before any command. */
  readonly setpoints: HeldSetpoints;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly acls: SiteAcls | null;
  private readonly agentNode: EphemeralNode;
  private readonly readingsNode: EphemeralNode;
  private readonly queue: CommandQueue;
  private readonly conflict: AgentConflict;
  /** Local time at construction until ZooKeeper's clock is known, then corrected once (startedAtIso()). */
  private startedAt: string;
  private startedAtCorrected = false;
  /** Monotonic ms at construction: the agent's start, for correcting startedAt. */
  private readonly startedMonoMs: number;
  /** clockKnown() has run (once ZooKeeper's clock was known). */
  private clockSeen = false;
  /** Where this agent runs, as its agent document says. */
  private readonly host: string;
  private readonly pid: number;
  /** The readings snapshot to publish; null until the agent hands one in (an empty one is rendered then). */
  private readings: Buffer | null = null;
  private started = false;
  private closing: Promise<void> | null = null;
  private setupDone = false;
  private setupRunning = false;
  private readyResolve!: () => void;
  private readyReject!: (err: Error) => void;
  private readonly readyPromise: Promise<void>;

  constructor(
    private readonly settings: SiteCoordinatorSettings,
    private readonly deps: SiteCoordinatorDeps,
    opts: SiteCoordinatorOptions = {},
  ) {
    super();
    this.clock = deps.clock ?? systemClock;
    this.log = deps.logger.child({ site: settings.site, agentId: settings.agentId });
    this.paths = new SitePaths(settings.root, settings.site);
    const credentials = settings.credentials;
    this.acls = credentials === null ? null : siteAcls(digestAclId(credentials), settings.commandIssuers);
    this.serverClock = deps.serverClock ?? new ServerClock({ clock: this.clock });
    this.wallClock = new CorrectedClock(this.clock, this.serverClock);
    this.startedMonoMs = this.clock.monotonicMs();
    this.startedAt = this.wallClock.isoNow();
    this.host = deps.host ?? os.hostname();
    this.pid = deps.pid ?? process.pid;
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    this.readyPromise.catch(() => undefined); // a rejection nobody awaits is not a crash

    const logger = this.log;
    const clock = this.clock;
    this.session = new ZkSession(
      {
        ...opts.session,
        connect: settings.connect,
        sessionTimeoutMs: settings.sessionTimeoutMs,
        ...(credentials === null ? {} : { credentials }),
      },
      { logger, clock },
    );
    const session = this.session;
    const wallClock = this.wallClock;
    this.agentNode = new EphemeralNode(
      {
        path: this.paths.agent(settings.agentId),
        render: () => this.agentDocument(),
        minIntervalMs: settings.publishIntervalMs,
        acl: this.acls?.site ?? null,
      },
      { session, logger, clock, serverClock: this.serverClock },
    );
    this.readingsNode = new EphemeralNode(
      { path: this.paths.reading(settings.agentId), render: () => (this.readings ??= this.emptyReadings()), minIntervalMs: readingsFloorMs(settings.publishIntervalMs), acl: this.acls?.site ?? null },
      { session, logger, clock, serverClock: this.serverClock },
    );
    this.conflict = new AgentConflict(
      { paths: this.paths, agentId: settings.agentId, host: this.host, pid: this.pid, acl: this.acls?.site ?? null },
      { session, logger, clock, wallClock },
    );
    this.lock = new SiteLock({ paths: this.paths, agentId: settings.agentId, acl: this.acls?.site ?? null }, { session, logger, clock });
    this.gate = new ActuationGate({ maxWriteMs: settings.maxWriteMs }, { session, lock: this.lock, logger, clock });
    // What the held setpoints and the command queue both act through: the same lock, gate, handler
    // and clocks; a write of our agent node teaches the ServerClock when its sample is old.
    const actuation = {
      session,
      lock: this.lock,
      gate: this.gate,
      handler: deps.handler,
      serverClock: this.serverClock,
      wallClock,
      clockProbe: () => this.agentNode.writeNow(),
      logger,
      clock,
    };
    this.setpoints = new HeldSetpoints({ paths: this.paths, agentId: settings.agentId, acl: this.acls?.site ?? null }, actuation);
    this.queue = new CommandQueue(
      {
        paths: this.paths,
        agentId: settings.agentId,
        defaultTtlMs: settings.commandTtlMs,
        resultsKept: settings.resultsKept,
        resultsMaxAgeMs: settings.resultsMaxAgeMs,
        resultAcl: this.acls?.site ?? null,
        closeWaitMs: 2500,
      },
      { ...actuation, setpoints: this.setpoints },
    );

    this.session.on('state', (state, previous) => {
      this.emit('state', state, previous);
      if (state === 'connected') void this.setup();
    });
    this.lock.on('leader', (hold) => {
      this.agentNode.changed();
      this.emit('leader', hold.token);
    });
    this.lock.on('follower', (reason) => {
      this.agentNode.changed();
      this.emit('follower', reason);
    });
    this.queue.on('result', (name, result) => this.emit('result', name, result));
    this.agentNode.on('error', (err) => this.fail(err));
    this.agentNode.on('created', () => {
      this.clockKnown();
      if (this.conflict.current !== null) void this.conflict.clear().then(() => this.emit('duplicate', null));
    });
    this.readingsNode.on('error', (err) => {
      // The agent node's report says it already (same other agent, same id).
      if (err instanceof DuplicateAgentError) this.log.debug({ err }, 'readings node held by another session');
      else this.fail(err);
    });
  }

  get state(): SessionState {
    return this.session.state;
  }

  get isLeader(): boolean {
    return this.lock.isLeader;
  }

  /** Our fencing token while leader, else null. */
  get token(): string | null {
    return this.lock.hold?.token ?? null;
  }

  get sessionId(): string | null {
    return this.session.sessionId;
  }

  /** The other live agent that holds our agent node, while it does; else null. */
  get duplicateOf(): DuplicateOf | null {
    return this.conflict.current;
  }

  /** Results this agent wrote, by status (for metrics). */
  commandCounts(): Readonly<Record<CommandStatus, number>> {
    return this.queue.counts();
  }

  /** Starts connecting; never waits for ZooKeeper. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.session.start();
    this.gate.start();
    this.setpoints.start();
    this.queue.start();
  }

  /**
   * Resolves once our agent node exists and we are queued for the lock. Another live agent with our
   * id delays it until that one is gone (see duplicateOf); rejects only when closed first.
   */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * The readings snapshot (CONTRACT.md section 3) to publish, as a value or as its JSON text
   * already rendered; written at most once per publish.intervalMs.
   */
  publishReadings(snapshot: unknown): void {
    this.readings = Buffer.from(typeof snapshot === 'string' ? snapshot : JSON.stringify(snapshot));
    this.readingsNode.changed();
    this.clockKnown();
  }

  /**
   * The settings a reload may change without a new session (agent/reload-plan.ts); the session, the
   * lock and our nodes stay. `maxWriteMs` is the actuation gate's W: see ActuationGate.setMaxWriteMs.
   */
  reconfigure(
    settings: Partial<Pick<SiteCoordinatorSettings, 'publishIntervalMs' | 'commandTtlMs' | 'resultsKept' | 'resultsMaxAgeMs' | 'maxWriteMs'>>,
  ): void {
    const s = this.settings;
    if (settings.maxWriteMs !== undefined) {
      s.maxWriteMs = settings.maxWriteMs;
      this.gate.setMaxWriteMs(s.maxWriteMs);
    }
    if (settings.publishIntervalMs !== undefined) {
      s.publishIntervalMs = settings.publishIntervalMs;
      this.agentNode.setMinIntervalMs(s.publishIntervalMs);
      this.readingsNode.setMinIntervalMs(readingsFloorMs(s.publishIntervalMs));
    }
    if (settings.commandTtlMs !== undefined) s.commandTtlMs = settings.commandTtlMs;
    if (settings.resultsKept !== undefined) s.resultsKept = settings.resultsKept;
    if (settings.resultsMaxAgeMs !== undefined) s.resultsMaxAgeMs = settings.resultsMaxAgeMs;
    this.queue.setLimits({ defaultTtlMs: s.commandTtlMs, resultsKept: s.resultsKept, resultsMaxAgeMs: s.resultsMaxAgeMs });
  }

  /** The SIGTERM path, exactly once: write in flight, lock node, session (ephemerals vanish at once). */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.log.info('closing coordination');
    await this.queue.close(); // waits for the write in flight (bounded)
    this.setpoints.close();
    this.gate.close();
    await Promise.all([this.lock.close(), this.agentNode.close(), this.readingsNode.close(), this.conflict.close()]);
    await this.session.close();
    this.readyReject(new ZkError(ZK_RC.CLOSING, 'ready', null, 'coordination closed'));
  }

  /** Once per process: the tree and its ACLs, then our nodes, then the lock. */
  private async setup(): Promise<void> {
    if (this.setupDone || this.setupRunning || this.closing) return;
    this.setupRunning = true;
    try {
      let reported = false;
      while (!this.setupDone && !this.closing) {
        try {
          await ensureSiteTree(this.session, this.paths, this.acls);
          this.setupDone = true;
        } catch (err) {
          if (err instanceof ZkError && err.retryable) {
            await this.session.whenConnected().catch(() => undefined);
            continue;
          }
          // e.g. NOAUTH (the site belongs to other credentials), ChrootMissingError. Say so once, keep trying.
          if (!reported) {
            this.log.error({ err }, 'cannot create the site tree in ZooKeeper; retrying every 5 s');
            if (err instanceof Error && this.listenerCount('error') > 0) this.emit('error', err);
          } else {
            this.log.debug({ err }, 'site tree still cannot be created; retrying in 5 s');
          }
          reported = true;
          await sleep(5000);
        }
      }
      if (this.closing) return;
      this.agentNode.start();
      await new Promise<void>((resolve) => {
        if (this.agentNode.present) resolve();
        this.agentNode.once('created', () => resolve());
        this.readyPromise.catch(() => resolve()); // closed: stop waiting
      });
      if (!this.agentNode.present) return;
      if (this.closing) return;
      this.readingsNode.start();
      this.lock.start();
      this.log.info({ sessionId: this.session.sessionId }, 'coordination ready: agent node published, queued for the site lock');
      this.readyResolve();
    } finally {
      this.setupRunning = false;
    }
  }

  private fail(err: Error): void {
    if (err instanceof DuplicateAgentError) {
      this.conflict.report(err); // logs it, once per other session
      this.emit('duplicate', this.conflict.current);
    } else {
      this.log.error({ err }, 'coordination error');
    }
    // Without a listener EventEmitter would throw 'error' into the recipe that found it.
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * Once, when ZooKeeper's clock is first known: the first write of the agent node (its create)
   * taught it us, and the startedAt that create carried was local time, so the node is written once
   * more with the corrected one (within publishIntervalMs; nothing waits for it). A local clock more
   * than CLOCK_OFF_WARN_MS off is said once, with the offset. Called when the agent node is created
   * and at every publish (the backstop: a node adopted after a lost create answer is written by a
   * flush, which emits nothing).
   */
  private clockKnown(): void {
    if (this.clockSeen) return;
    const offsetMs = this.wallClock.offsetMs();
    if (offsetMs === null) return;
    this.clockSeen = true;
    if (!this.startedAtCorrected) this.agentNode.changed(); // renders startedAtIso() anew
    if (Math.abs(offsetMs) <= CLOCK_OFF_WARN_MS) {
      this.log.debug({ clockOffsetMs: Math.round(offsetMs) }, 'local clock within 2 s of the ZooKeeper clock');
    } else {
      this.log.warn(
        { clockOffsetMs: Math.round(offsetMs) },
        `the local clock is ${describeOffset(offsetMs)} ZooKeeper's: every time this agent writes is stamped by ZooKeeper's clock instead (is NTP running?)`,
      );
    }
  }

  /**
   * startedAt: the start of this agent by the corrected clock (corrected now minus the monotonic time
   * since), fixed at the first render after ZooKeeper's clock is known; before that, local time.
   * Fixed once rather than recomputed: every new clock sample would move it by a millisecond and
   * cost a write.
   */
  private startedAtIso(): string {
    if (!this.startedAtCorrected && this.wallClock.corrected) {
      this.startedAtCorrected = true;
      this.startedAt = new Date(this.wallClock.nowMs() - (this.clock.monotonicMs() - this.startedMonoMs)).toISOString();
    }
    return this.startedAt;
  }

  /** The readings node before the agent published any: no devices, stamped now. */
  private emptyReadings(): Buffer {
    const s = this.settings;
    return Buffer.from(JSON.stringify({ site: s.site, agentId: s.agentId, seq: 0, publishedAt: this.wallClock.isoNow(), leader: false, devices: {} }));
  }

  private agentDocument(): Buffer {
    const hold = this.lock.hold;
    return Buffer.from(
      JSON.stringify({
        agentId: this.settings.agentId,
        site: this.settings.site,
        host: this.host,
        pid: this.pid,
        version: this.deps.version,
        startedAt: this.startedAtIso(),
        sessionId: this.session.sessionId,
        leader: hold !== null,
        token: hold?.token ?? null,
      }),
    );
  }
}

/**
 * The least time between two writes of the readings node. The agent paces its snapshots itself (one
 * per publish interval on average, written right behind a round of polls: agent/publish-pacer.ts);
 * holding the node to a whole interval as well would push a snapshot the pacer timed to a phase of
 * the node's own (most of a second late). A tenth of an interval only keeps a runaway caller off the
 * ensemble; the pacer's closest two writes (a quiet site's change, then the end of its round) are
 * a round of polls apart, mostly more.
 */
function readingsFloorMs(publishIntervalMs: number): number {
  return publishIntervalMs / 10;
}

/** `3.2 s behind` / `365 days ahead of` for the log: the offset is ZooKeeper's minus ours. */
function describeOffset(offsetMs: number): string {
  const abs = Math.abs(offsetMs);
  const size = abs >= 172_800_000 ? `${Math.round(abs / 86_400_000)} days` : abs >= 120_000 ? `${Math.round(abs / 60_000)} min` : `${(abs / 1000).toFixed(1)} s`;
  return `${size} ${offsetMs > 0 ? 'behind' : 'ahead of'}`;
}
