// SiteLock: the ephemeral-sequential lock recipe on `lock/`.
//  - Each agent creates `lock/<uuid>-lock-<10 digits>` (data {"agentId"}); the holder is the child
//    with the lowest sequence number. A waiter watches only its predecessor (no herd on a release).
//  - The uuid prefix is fresh per session: when a create's answer is lost to CONNECTIONLOSS the node
//    may exist anyway, so before creating again we list the children and adopt the one with our
//    prefix (owned by our session). No orphan lock node stays behind to block the others.
//  - Leadership is claimed only after getChildren shows ours lowest AND an exists() on our node
//    shows its ephemeralOwner is our CURRENT session. Sequence numbers only grow, so a node that
//    was lowest stays lowest while it exists; re-verifying existence and owner is enough afterwards.
//  - It ends at once (synchronously, in the session's state event) when the session leaves
//    `connected`; after a reconnect of the same session it is verified again from scratch; after a
//    lost session the node is gone with it and a new one is created under the new session.
//  - token = czxid of our lock node, as a decimal string: every later holder's node was created
//    later, so tokens only grow.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { isZkError } from './errors.js';
import { LOCK_PREFIX, lockName, nodeName, sortBySequence, type SitePaths } from './paths.js';
import type { SessionState, ZkSession } from './session.js';
import { SerialRunner } from './serial-runner.js';
import { withTimeout } from './timeout.js';
import type { WatchEventType, ZkAcl } from './zk-client.js';

export interface LockHold {
  /** Child name, `<uuid>-lock-0000000007`. */
  name: string;
  /** `lock-0000000007`: the part the contract names, as written into results. */
  lockName: string;
  path: string;
  /** czxid of the node, decimal. */
  token: string;
  sessionId: string;
}

export interface SiteLockOptions {
  paths: SitePaths;
  agentId: string;
  /** Set right after the create (the library creates with an open ACL); null keeps it open. */
  acl: readonly ZkAcl[] | null;
}

export interface SiteLockEvents {
  /** Leadership claimed; `verifiedAtMonoMs` is the send time of the request that proved it. */
  leader: [hold: LockHold, verifiedAtMonoMs: number];
  follower: [reason: string];
}

interface OwnNode {
  name: string;
  path: string;
  sessionId: string;
  /** Our ACL is on it (set right after the create; retried if that request failed). */
  aclSet: boolean;
}

export class SiteLock extends EventEmitter<SiteLockEvents> {
  private readonly log: Logger;
  private started = false;
  private closed = false;
  private node: OwnNode | null = null;
  private holdValue: LockHold | null = null;
  /** Prefix of creates made under `sessionId`: a create whose answer was lost is found by it. */
  private attempt: { prefix: string; sessionId: string; createdMaybe: boolean } | null = null;
  private readonly runner = new SerialRunner(() => this.reconcile(), () => this.closed);
  private retryTimer: NodeJS.Timeout | null = null;

  private readonly onState = (state: SessionState): void => {
    if (state !== 'connected') {
      this.endLeadership(`session ${state}`);
      if (state === 'lost') this.node = null;
      return;
    }
    this.kick();
  };

  constructor(
    private readonly opts: SiteLockOptions,
    private readonly deps: { session: ZkSession; logger: Logger; clock: Clock },
  ) {
    super();
    this.log = deps.logger.child({ component: 'site-lock' });
  }

  get isLeader(): boolean {
    return this.holdValue !== null;
  }

  /** Our hold while leader, else null. */
  get hold(): LockHold | null {
    return this.holdValue;
  }

  /** Our lock node's name (leader or waiting), else null. */
  get nodeName(): string | null {
    return this.node?.name ?? null;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.session.on('state', this.onState);
    this.kick();
  }

  /** Leaves the queue: ends leadership and deletes our node (bounded wait). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.session.off('state', this.onState);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.endLeadership('closing');
    const node = this.node;
    this.node = null;
    if (node && this.deps.session.state === 'connected' && node.sessionId === this.deps.session.sessionId) {
      await withTimeout(this.deps.session.delete(node.path), 1000, `delete ${node.path}`).catch((err: unknown) =>
        this.log.warn({ err }, 'could not delete our lock node on close (closing the session removes it)'),
      );
      this.log.info({ node: node.name }, 'lock node deleted');
    }
  }

  /**
   * Asks the server whether our node still exists under our current session. Returns the send time
   * (monotonic ms) of that request when it does; null otherwise. A node found gone or foreign ends
   * leadership; a failed request leaves that to the session's state events.
   */
  async verify(): Promise<number | null> {
    const hold = this.holdValue;
    if (!hold) return null;
    const sentMs = this.deps.clock.monotonicMs();
    let owner: string | null;
    try {
      owner = (await this.deps.session.exists(hold.path))?.ephemeralOwner ?? null;
    } catch (err) {
      this.log.debug({ err }, 'lock verification request failed');
      return null;
    }
    if (this.holdValue !== hold) return null;
    if (owner !== hold.sessionId || this.deps.session.sessionId !== hold.sessionId) {
      this.log.warn({ node: hold.name, owner }, 'our lock node is gone or not ours any more');
      this.endLeadership('lock node lost');
      this.node = null;
      this.kick();
      return null;
    }
    return sentMs;
  }

  private endLeadership(reason: string): void {
    if (!this.holdValue) return;
    const hold = this.holdValue;
    this.holdValue = null;
    this.log.warn({ node: hold.name, token: hold.token, reason }, 'site lock leadership ended');
    this.emit('follower', reason);
  }

  private kick(): void {
    if (this.closed || !this.started) return;
    this.runner.kick();
  }

  private async reconcile(): Promise<void> {
    const session = this.deps.session;
    const sessionId = session.sessionId;
    if (session.state !== 'connected' || sessionId === null) return;
    try {
      if (this.node && this.node.sessionId !== sessionId) this.node = null;
      if (!this.node) this.node = await this.findOrCreate(sessionId);
      const node = this.node;
      if (!node) return;
      if (!node.aclSet && this.opts.acl) await session.setAcl(node.path, this.opts.acl);
      node.aclSet = true;
      await this.evaluate(node, sessionId);
    } catch (err) {
      if (this.closed) return;
      if (isZkError(err, 'CONNECTIONLOSS', 'SESSIONEXPIRED', 'CLOSING', 'OPERATIONTIMEOUT')) {
        this.log.debug({ err }, 'lock step interrupted; resuming on reconnect');
        return; // the next `connected` kicks us
      }
      this.log.error({ err }, 'lock step failed; retrying');
      if (!this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.kick();
        }, 1000);
      }
    }
  }

  private async findOrCreate(sessionId: string): Promise<OwnNode | null> {
    const session = this.deps.session;
    const { paths } = this.opts;
    if (this.attempt?.sessionId !== sessionId) {
      this.attempt = { prefix: `${randomUUID()}-${LOCK_PREFIX}`, sessionId, createdMaybe: false };
    }
    const attempt = this.attempt;
    if (attempt.createdMaybe) {
      // An earlier create under this session lost its answer: it may have made the node.
      const found = (await session.getChildren(paths.lock)).find((n) => n.startsWith(attempt.prefix));
      if (found !== undefined) {
        const path = paths.lockNode(found);
        const stat = await session.exists(path);
        if (stat?.ephemeralOwner === sessionId) {
          this.log.info({ node: found }, 'found the lock node of a create whose answer was lost');
          attempt.createdMaybe = false;
          return { name: found, path, sessionId, aclSet: false };
        }
      }
    }
    attempt.createdMaybe = true;
    const data = Buffer.from(JSON.stringify({ agentId: this.opts.agentId }));
    const created = await session.create(paths.lockNode(attempt.prefix), data, 'ephemeral_sequential');
    attempt.createdMaybe = false;
    const name = nodeName(created);
    this.log.info({ node: name, sessionId }, 'lock node created; queued for the site lock');
    return { name, path: paths.lockNode(name), sessionId, aclSet: false };
  }

  private async evaluate(node: OwnNode, sessionId: string): Promise<void> {
    const session = this.deps.session;
    const children = sortBySequence(await session.getChildren(this.opts.paths.lock), LOCK_PREFIX);
    const index = children.findIndex((c) => c.name === node.name);
    if (index < 0) {
      this.log.warn({ node: node.name }, 'our lock node is gone; queueing again');
      this.endLeadership('lock node gone');
      this.node = null;
      this.runner.kick();
      return;
    }
    if (index > 0) {
      this.endLeadership('not the lowest lock node');
      const predecessor = children[index - 1];
      if (predecessor === undefined) return;
      const predPath = this.opts.paths.lockNode(predecessor.name);
      const stat = await session.exists(predPath, (e) => this.onPredecessorEvent(e));
      if (stat === null) this.runner.kick(); // gone between the listing and the watch
      else this.log.debug({ node: node.name, waitingFor: predecessor.name }, 'waiting for the lock');
      return;
    }
    // Lowest: confirm the node is owned by our current session before claiming anything.
    const sentMs = this.deps.clock.monotonicMs();
    const stat = await session.exists(node.path, (e) => this.onOwnNodeEvent(e, node));
    const stillOurs =
      stat !== null &&
      stat.ephemeralOwner === sessionId &&
      session.sessionId === sessionId &&
      session.state === 'connected' &&
      this.node === node &&
      !this.closed;
    if (!stillOurs) {
      if (stat === null || stat.ephemeralOwner !== sessionId) {
        this.node = null;
        this.runner.kick();
      }
      return;
    }
    const hold: LockHold = { name: node.name, lockName: lockName(node.name), path: node.path, token: String(stat.czxid), sessionId };
    if (this.holdValue?.name === hold.name && this.holdValue.sessionId === sessionId) return;
    this.holdValue = hold;
    this.log.info({ node: hold.name, token: hold.token, sessionId }, 'site lock acquired: leader');
    this.emit('leader', hold, sentMs);
  }

  private onPredecessorEvent(event: WatchEventType): void {
    if (event === 'deleted') this.kick();
  }

  private onOwnNodeEvent(event: WatchEventType, node: OwnNode): void {
    if (event !== 'deleted' || this.node !== node) return;
    this.log.warn({ node: node.name }, 'our lock node was deleted');
    this.endLeadership('lock node deleted');
    this.node = null;
    this.kick();
  }
}
