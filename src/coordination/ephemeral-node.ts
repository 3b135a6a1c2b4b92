// EphemeralNode (after Curator's PersistentNode): keeps one ephemeral znode present whenever there
// is a session, with the data `render()` gives.
//  - created at the first `connected`, re-created right after every new session (the old one took
//    its node with it), re-checked after every reconnect, and re-created if someone deletes it;
//  - writes are coalesced: at most one setData per `minIntervalMs`, none when the bytes are unchanged;
//  - a node already held by ANOTHER session is waited for (watched) up to `lingerMs()` (default the
//    session timeout + 1 s): the node of our own previous process (restart with the same agent id)
//    vanishes when that session expires, a second live agent's never does. We cannot tell the two
//    apart any sooner (pid and host in the document may be reused), so if it stays we report a
//    DuplicateAgentError ('error' event) and keep watching: when it goes, ours is created.
//  - every create/setData answer carries the server's time of the write: fed to the ServerClock.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { DuplicateAgentError, isZkError, ZnodeTooLargeError, type AgentHolder } from './errors.js';
import type { ServerClock } from './server-clock.js';
import type { SessionState, ZkSession } from './session.js';
import { SerialRunner } from './serial-runner.js';
import { withTimeout } from './timeout.js';
import type { ZkAcl } from './zk-client.js';

/** Largest data we write to one znode, bytes (ZooKeeper's jute.maxbuffer is 1,048,575 per request). */
export const ZNODE_MAX_BYTES = 1_000_000;

export interface EphemeralNodeOptions {
  path: string;
  /** The node's current data; called for every create and write. */
  render: () => Buffer;
  /** At most one setData per this interval, ms. */
  minIntervalMs: number;
  /** Set right after each create (the library creates with an open ACL); null keeps it open. */
  acl: readonly ZkAcl[] | null;
  /** How long a node held by another session may linger before it counts as a live duplicate. */
  lingerMs?: () => number;
}

export interface EphemeralNodeDeps {
  session: ZkSession;
  logger: Logger;
  clock: Clock;
  serverClock?: ServerClock;
}

export class EphemeralNode extends EventEmitter<{ created: [sessionId: string]; error: [err: Error] }> {
  private readonly log: Logger;
  private started = false;
  private closed = false;
  /** The session under which our node exists (as far as we know), else null. */
  private ownerSessionId: string | null = null;
  /** Sessions of ours that owned the node before: their leftovers are ours, not a duplicate's. */
  private readonly pastSessionIds = new Set<string>();
  private written: Buffer | null = null;
  private lastWriteMonoMs = Number.NEGATIVE_INFINITY;
  private verifyNeeded = true;
  private readonly runner = new SerialRunner(() => this.reconcile(), () => this.closed);
  private timer: NodeJS.Timeout | null = null;
  /** Another session's node: since when we wait for it, and whether we reported it. */
  private lingering: { owner: string; sinceMonoMs: number; reported: boolean } | null = null;

  private readonly onState = (state: SessionState): void => {
    if (state === 'connected') {
      this.verifyNeeded = true;
      this.kick();
    }
  };

  constructor(
    private readonly opts: EphemeralNodeOptions,
    private readonly deps: EphemeralNodeDeps,
  ) {
    super();
    this.log = deps.logger.child({ component: 'ephemeral-node', path: opts.path });
  }

  get path(): string {
    return this.opts.path;
  }

  /** True while the node exists under the current session (as last seen). */
  /** A reload changed publish.intervalMs: the next write is due by the new interval. */
  setMinIntervalMs(minIntervalMs: number): void {
    this.opts.minIntervalMs = minIntervalMs;
  }

  get present(): boolean {
    return this.ownerSessionId !== null && this.ownerSessionId === this.deps.session.sessionId;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.session.on('state', this.onState);
    this.kick();
  }

  /** The data changed: write it (coalesced). */
  changed(): void {
    this.kick();
  }

  /** Writes the current data now, ignoring the interval (a server-clock probe). False if not possible. */
  async writeNow(): Promise<boolean> {
    if (!this.present || this.closed) return false;
    try {
      await this.write(this.opts.render());
      return true;
    } catch (err) {
      this.log.debug({ err }, 'forced write failed');
      return false;
    }
  }

  /** Stops and deletes the node if it is ours (bounded wait; closing the session removes it anyway). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.session.off('state', this.onState);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.present && this.deps.session.state === 'connected') {
      await withTimeout(this.deps.session.delete(this.opts.path), 1000).catch((err: unknown) =>
        this.log.debug({ err }, 'delete on close failed (the session close removes it)'),
      );
    }
    this.ownerSessionId = null;
  }

  /** Runs reconcile() one at a time; a kick while it runs makes it run once more. */
  private kick(): void {
    if (this.closed || !this.started) return;
    this.runner.kick();
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.kick();
      },
      Math.max(0, delayMs),
    );
  }

  private async reconcile(): Promise<void> {
    const session = this.deps.session;
    if (session.state !== 'connected') return;
    const sessionId = session.sessionId;
    if (sessionId === null) return;
    try {
      if (this.ownerSessionId !== sessionId) {
        await this.create(sessionId);
        return;
      }
      if (this.verifyNeeded) {
        this.verifyNeeded = false;
        const stat = await session.exists(this.opts.path, (e) => this.onWatch(e));
        if (stat === null || stat.ephemeralOwner !== sessionId) {
          this.log.warn({ owner: stat?.ephemeralOwner ?? null }, 'our ephemeral node is gone; re-creating');
          this.ownerSessionId = null;
          await this.create(sessionId);
          return;
        }
      }
      await this.flush();
    } catch (err) {
      if (isZkError(err, 'NONODE') && this.ownerSessionId === sessionId) {
        this.ownerSessionId = null; // deleted under us: create again
        this.runner.kick();
        return;
      }
      this.log.warn({ err }, 'ephemeral node update failed; retrying');
      this.verifyNeeded = true;
      this.schedule(500);
    }
  }

  private async create(sessionId: string): Promise<void> {
    const session = this.deps.session;
    const data = this.checked(this.opts.render());
    if (data === null) return;
    const sentMs = this.deps.clock.monotonicMs();
    try {
      await session.create(this.opts.path, data, 'ephemeral');
    } catch (err) {
      if (!isZkError(err, 'NODEEXISTS')) throw err;
      await this.onExisting(sessionId);
      return;
    }
    const receivedMs = this.deps.clock.monotonicMs();
    this.lingering = null;
    if (this.opts.acl) await session.setAcl(this.opts.path, this.opts.acl);
    const stat = await session.exists(this.opts.path, (e) => this.onWatch(e));
    if (stat === null || stat.ephemeralOwner !== sessionId) {
      this.runner.kick(); // gone again already (or a new session): start over
      return;
    }
    this.deps.serverClock?.observe(sentMs, receivedMs, stat.ctimeMs);
    this.adopt(sessionId, data, sentMs);
    this.log.info({ sessionId }, 'ephemeral node created');
    this.emit('created', sessionId);
  }

  /** create said NODEEXISTS: ours (an answer lost to a disconnect), or another session's. */
  private async onExisting(sessionId: string): Promise<void> {
    const session = this.deps.session;
    const stat = await session.exists(this.opts.path, (e) => this.onWatch(e));
    if (stat === null) {
      this.runner.kick(); // vanished meanwhile
      return;
    }
    if (stat.ephemeralOwner === sessionId) {
      if (this.opts.acl) await session.setAcl(this.opts.path, this.opts.acl);
      this.adopt(sessionId, null, Number.NEGATIVE_INFINITY); // content unknown: the next flush writes it
      this.lingering = null;
      this.emit('created', sessionId);
      this.runner.kick();
      return;
    }
    const owner = stat.ephemeralOwner ?? 'none (a persistent node)';
    const now = this.deps.clock.monotonicMs();
    if (this.lingering?.owner !== owner) {
      this.lingering = { owner, sinceMonoMs: now, reported: false };
      const ours = this.pastSessionIds.has(owner);
      this.log.warn(
        { owner, ours, waitMs: this.lingerMs() },
        ours ? 'our previous session still holds the node; waiting for it to vanish' : 'node held by another session; waiting for it to vanish',
      );
    }
    const waitedMs = now - this.lingering.sinceMonoMs;
    if (waitedMs >= this.lingerMs()) {
      if (!this.lingering.reported) {
        this.lingering.reported = true;
        this.report(new DuplicateAgentError(this.opts.path, owner, Math.round(waitedMs), await this.describeHolder()));
      }
      this.schedule(this.lingerMs()); // keep looking: if it ever goes, the node is ours again
      return;
    }
    // The exists watch above wakes us when it is deleted; the timer ends the wait.
    this.schedule(this.lingerMs() - waitedMs + 10);
  }

  private async flush(): Promise<void> {
    const data = this.checked(this.opts.render());
    if (data === null || (this.written !== null && data.equals(this.written))) return;
    const dueMs = this.lastWriteMonoMs + this.opts.minIntervalMs - this.deps.clock.monotonicMs();
    if (dueMs > 0) {
      this.schedule(dueMs);
      return;
    }
    await this.write(data);
  }

  private async write(data: Buffer): Promise<void> {
    const sentMs = this.deps.clock.monotonicMs();
    this.lastWriteMonoMs = sentMs;
    const stat = await this.deps.session.set(this.opts.path, data);
    this.deps.serverClock?.observe(sentMs, this.deps.clock.monotonicMs(), stat.mtimeMs);
    this.written = data;
  }

  private adopt(sessionId: string, written: Buffer | null, writtenAtMs: number): void {
    this.ownerSessionId = sessionId;
    this.pastSessionIds.add(sessionId);
    this.written = written;
    this.lastWriteMonoMs = writtenAtMs;
    this.verifyNeeded = false;
  }

  private onWatch(event: string): void {
    if (event === 'deleted') {
      if (this.present) this.log.warn('our ephemeral node was deleted; re-creating');
      this.verifyNeeded = true;
      this.kick();
    }
  }

  private checked(data: Buffer): Buffer | null {
    if (data.length <= ZNODE_MAX_BYTES) return data;
    this.report(new ZnodeTooLargeError(this.opts.path, data.length, ZNODE_MAX_BYTES));
    return null;
  }

  /** 'error' to whoever listens (who logs it); logged here when nobody does (an unheard 'error' would throw into the recipe). */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.log.error({ err }, 'ephemeral node error');
  }

  private lingerMs(): number {
    return this.opts.lingerMs?.() ?? this.deps.session.negotiatedTimeoutMs + 1000;
  }

  /** host/pid/startedAt from the lingering node's document (an agent document), for the duplicate report. */
  private async describeHolder(): Promise<AgentHolder> {
    const none: AgentHolder = { host: null, pid: null, startedAt: null };
    try {
      const { data } = await this.deps.session.get(this.opts.path);
      const doc: unknown = JSON.parse(data.toString('utf8'));
      if (typeof doc !== 'object' || doc === null) return none;
      const d: Record<string, unknown> = { ...doc };
      return {
        host: typeof d.host === 'string' ? d.host : null,
        pid: typeof d.pid === 'number' ? d.pid : null,
        startedAt: typeof d.startedAt === 'string' ? d.startedAt : null,
      };
    } catch {
      return none; // gone meanwhile, or no JSON: the session id still names it
    }
  }
}
