// ZkSession: the one owner of the ZooKeeper client. Its state is one enum, emitted as
// `state(state, previous)`:
//   connecting  no session yet (first start, or a new client after `lost`)
//   connected   session established, authenticated, and confirmed since the last stall
//   suspended   link lost or event loop stalled: the session may still live on the server, but
//               nothing may act on its strength (the actuation gate closes synchronously here)
//   lost        session expired, auth failed, or closed: its ephemeral nodes are gone
// After `lost` a NEW client instance is made (a closed one is never reused); each session's first
// `connected` is followed by `session(sessionId)`, the cue to re-create ephemeral nodes. When the
// server is unreachable the client keeps retrying on its own, forever; when a client cannot even be
// made (e.g. an unresolvable host name) or keeps losing its session, new ones follow with backoff.
// Nothing here throws for an unreachable server. Digest credentials come in already read (the
// caller reads the file once: credentials.ts).
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { Backoff } from '../backoff.js';
import type { Clock } from '../clock.js';
import { digestAclId, type DigestCredentials } from './credentials.js';
import { ZK_RC, ZkError } from './errors.js';
import { StallDetector } from './stall-detector.js';
import { ZK_STATE, ZkClient, type CreateMode, type WatchCallback, type ZkAcl, type ZkStat } from './zk-client.js';

/** Period of the native link-state poll, ms (a backstop: requests check it right away). */
const LINK_CHECK_MS = 20;

export type SessionState = 'connecting' | 'connected' | 'suspended' | 'lost';

export interface ZkSessionOptions {
  connect: string;
  /** Requested; the server may grant less (see negotiatedTimeoutMs). */
  sessionTimeoutMs: number;
  /** Digest credentials, sent before any other request of each client (readCredentialsFile). */
  credentials?: DigestCredentials;
  /** An event-loop stall longer than this fraction of the negotiated timeout suspends the session. Default 1/4. */
  stallFraction?: number;
  /** Delay before a new client after failures: doubles from initialMs up to maxMs, with jitter (backoff.ts). Default 250..10000. */
  backoff?: { initialMs: number; maxMs: number };
  /** Default 100000 (the library's default of 10 can close a healthy session, see zk-client.ts). */
  responseCounterLimit?: number;
  /** The C library's stderr log: 0 off .. 4 debug. Default 1 (errors). */
  nativeLogLevel?: 0 | 1 | 2 | 3 | 4;
}

export interface ZkSessionEvents {
  state: [state: SessionState, previous: SessionState];
  /** A new session is established (after `connected`): ephemeral nodes must be (re)created. */
  session: [sessionId: string];
}

export class ZkSession extends EventEmitter<ZkSessionEvents> {
  private readonly log: Logger;
  private readonly stall: StallDetector;
  /** Counts clients that failed in a row; reset by an established session. */
  private readonly backoff: Backoff;
  private client: ZkClient | null = null;
  private stateValue: SessionState = 'connecting';
  private started = false;
  private closing: Promise<void> | null = null;
  /** The link of the current client is up (its last event was `connect`). */
  private linkUp = false;
  /** Session id announced with `session` for the current client. */
  private announcedSessionId: string | null = null;
  private authPending: Promise<boolean> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Polls the client's native state: the library can drop a link without an event (zk-client.ts). */
  private linkTimer: NodeJS.Timeout | null = null;
  /** Bumped on every link event: a confirmation answer from before it counts for nothing. */
  private linkEpoch = 0;
  private warnedTimeoutMs = 0;

  constructor(
    private readonly opts: ZkSessionOptions,
    private readonly deps: { logger: Logger; clock: Clock },
  ) {
    super();
    this.log = deps.logger.child({ component: 'zk-session' });
    this.stall = new StallDetector({ thresholdMs: this.stallThresholdMs(opts.sessionTimeoutMs) }, { clock: deps.clock });
    this.stall.on('stall', (ms) => this.onStall(ms));
    this.backoff = new Backoff(opts.backoff ?? { initialMs: 250, maxMs: 10_000 });
  }

  /** `user:base64hash` of this session's digest credentials (what ACLs name), or null without any. */
  get digestId(): string | null {
    return this.opts.credentials ? digestAclId(this.opts.credentials) : null;
  }

  /** The connect string, as given (hosts, and a chroot if any). */
  get connect(): string {
    return this.opts.connect;
  }


  get state(): SessionState {
    return this.stateValue;
  }

  /** `0x...` of the established session (also while suspended), null while there is none. */
  get sessionId(): string | null {
    return this.client?.sessionId ?? null;
  }

  /** The timeout the server granted; the requested one until a session exists. */
  get negotiatedTimeoutMs(): number {
    return this.client?.negotiatedTimeoutMs ?? this.opts.sessionTimeoutMs;
  }

  get requestedTimeoutMs(): number {
    return this.opts.sessionTimeoutMs;
  }

  /** True while the event-loop watchdog has not run for longer than its threshold. */
  isStalled(): boolean {
    return this.stall.isStalled();
  }

  get stallDetector(): StallDetector {
    return this.stall;
  }

  /** Starts connecting; never waits for the server. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stall.start();
    this.linkTimer = setInterval(() => this.client?.checkLink(), LINK_CHECK_MS);
    this.linkTimer.unref();
    this.openClient();
  }

  /** Closes the session exactly once: its ephemeral nodes vanish at once on the server. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = Promise.resolve();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.linkTimer) clearInterval(this.linkTimer);
    this.linkTimer = null;
    this.stall.close();
    const client = this.client;
    this.client = null;
    this.linkUp = false;
    client?.close();
    this.setState('lost');
    this.log.info('ZooKeeper session closed');
    return this.closing;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /** Resolves once `connected` (at once if it is); rejects when the session is closed meanwhile. */
  whenConnected(): Promise<void> {
    if (this.stateValue === 'connected') return Promise.resolve();
    if (this.closing) return Promise.reject(new ZkError(ZK_RC.CLOSING, 'whenConnected', null, 'the session is closed'));
    return new Promise((resolve, reject) => {
      const onState = (state: SessionState): void => {
        if (state === 'connected') {
          this.off('state', onState);
          resolve();
        } else if (this.closing) {
          this.off('state', onState);
          reject(new ZkError(ZK_RC.CLOSING, 'whenConnected', null, 'the session is closed'));
        }
      };
      this.on('state', onState);
    });
  }

  // Promise API over the current client. Each call fails with a ZkError; CONNECTIONLOSS while there
  // is no client (between a lost session and the next), CLOSING once closed.

  create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.use('create', path, (c) => c.create(path, data, mode));
  }

  exists(path: string, watch?: WatchCallback): Promise<ZkStat | null> {
    return this.use('exists', path, (c) => c.exists(path, watch));
  }

  get(path: string, watch?: WatchCallback): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.use('get', path, (c) => c.get(path, watch));
  }

  getChildren(path: string, watch?: WatchCallback): Promise<string[]> {
    return this.use('getChildren', path, (c) => c.getChildren(path, watch));
  }

  set(path: string, data: Buffer, version = -1): Promise<ZkStat> {
    return this.use('set', path, (c) => c.set(path, data, version));
  }

  delete(path: string, version = -1): Promise<void> {
    return this.use('delete', path, (c) => c.delete(path, version));
  }

  getAcl(path: string): Promise<ZkAcl[]> {
    return this.use('getAcl', path, (c) => c.getAcl(path));
  }

  setAcl(path: string, acl: readonly ZkAcl[], version = -1): Promise<void> {
    return this.use('setAcl', path, (c) => c.setAcl(path, acl, version));
  }

  sync(path: string): Promise<void> {
    return this.use('sync', path, (c) => c.sync(path));
  }

  private use<T>(op: string, path: string, run: (c: ZkClient) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new ZkError(ZK_RC.CLOSING, op, path, 'the session is closed'));
    const client = this.client;
    if (!client) return Promise.reject(new ZkError(ZK_RC.CONNECTIONLOSS, op, path, 'no ZooKeeper client right now'));
    return run(client);
  }

  private openClient(): void {
    this.reconnectTimer = null;
    if (this.closing) return;
    const client: ZkClient = new ZkClient(
      {
        connect: this.opts.connect,
        sessionTimeoutMs: this.opts.sessionTimeoutMs,
        responseCounterLimit: this.opts.responseCounterLimit ?? 100_000,
        nativeLogLevel: this.opts.nativeLogLevel ?? 1,
      },
      {
        onConnect: () => this.onConnect(client),
        onConnecting: () => this.onConnecting(client),
        onClose: (code) => this.onClientClosed(client, code),
      },
    );
    this.client = client;
    this.linkUp = false;
    this.announcedSessionId = null;
    this.authPending = null;
    this.setState('connecting');
    if (!client.init()) {
      this.log.warn({ connect: this.opts.connect }, 'ZooKeeper client could not start (does the host name resolve?); retrying');
      this.client = null;
      client.close();
      this.scheduleReconnect(this.backoff.next());
      return;
    }
    // Digest auth goes out before any other request: the library sends it right after the
    // connect handshake (and again after every reconnect), ahead of anything queued later.
    const creds = this.opts.credentials;
    if (creds) {
      this.authPending = client.addAuth('digest', `${creds.user}:${creds.password}`).then(
        () => true,
        (err: unknown) => {
          this.log.error({ err, user: creds.user }, 'ZooKeeper digest authentication failed');
          return false;
        },
      );
    }
    this.log.info({ connect: this.opts.connect, requestedTimeoutMs: this.opts.sessionTimeoutMs }, 'connecting to ZooKeeper');
  }

  private onConnect(client: ZkClient): void {
    if (client !== this.client) return;
    this.linkUp = true;
    const epoch = ++this.linkEpoch;
    const timeoutMs = client.negotiatedTimeoutMs;
    this.stall.setThreshold(this.stallThresholdMs(timeoutMs));
    if (timeoutMs < this.opts.sessionTimeoutMs && this.warnedTimeoutMs !== timeoutMs) {
      this.warnedTimeoutMs = timeoutMs;
      this.log.warn(
        { requestedTimeoutMs: this.opts.sessionTimeoutMs, negotiatedTimeoutMs: timeoutMs },
        'ZooKeeper granted a shorter session timeout than requested (server maxSessionTimeout); leases use the granted one',
      );
    }
    const auth = this.authPending;
    if (auth === null) {
      this.becomeConnected(client, epoch);
      return;
    }
    void auth.then((ok) => {
      if (ok) {
        this.authPending = null;
        this.becomeConnected(client, epoch);
      }
    });
  }

  private becomeConnected(client: ZkClient, epoch: number): void {
    if (client !== this.client || !this.linkUp || epoch !== this.linkEpoch) return;
    const sessionId = client.sessionId;
    if (sessionId === null) return;
    // A stall reported while the link was up is confirmed by a round trip (see onStall).
    if (this.stall.isStalled()) {
      this.confirmAfterStall(client);
      return;
    }
    this.backoff.reset();
    const isNew = this.announcedSessionId !== sessionId;
    this.announcedSessionId = sessionId;
    if (isNew) {
      this.log.info({ sessionId, negotiatedTimeoutMs: client.negotiatedTimeoutMs }, 'ZooKeeper session established');
    }
    this.setState('connected');
    if (isNew) this.emit('session', sessionId);
  }

  private onConnecting(client: ZkClient): void {
    if (client !== this.client) return;
    this.linkUp = false;
    this.linkEpoch++;
    if (this.stateValue === 'connected') {
      this.setState('suspended');
      this.log.warn({ sessionId: client.sessionId }, 'ZooKeeper link lost; session suspended');
    }
  }

  private onClientClosed(client: ZkClient, code: number): void {
    if (client !== this.client || this.closing) return;
    this.client = null;
    this.linkUp = false;
    this.linkEpoch++;
    const authFailed = code === ZK_STATE.AUTH_FAILED;
    const reason = code === ZK_STATE.EXPIRED_SESSION ? 'session expired' : authFailed ? 'authentication failed' : `client closed (code ${code})`;
    const hadSession = this.announcedSessionId !== null;
    this.log.warn({ sessionId: this.announcedSessionId, code }, `ZooKeeper session lost: ${reason}`);
    this.setState('lost');
    // A session that lived is replaced at once; a client that never got one backs off.
    if (hadSession && !authFailed) {
      this.backoff.reset();
      this.scheduleReconnect(0);
    } else {
      this.scheduleReconnect(this.backoff.next());
    }
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.closing || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => this.openClient(), delayMs);
  }

  private onStall(stalledMs: number): void {
    this.log.warn(
      { stalledMs: Math.round(stalledMs), thresholdMs: this.stall.thresholdMs, state: this.stateValue },
      'event loop stalled; session suspended until the server answers again',
    );
    if (this.stateValue !== 'connected') return;
    const client = this.client;
    this.setState('suspended');
    if (client) this.confirmAfterStall(client);
  }

  /** After a stall, only a fresh round trip shows the session still lives: then `connected` again. */
  private confirmAfterStall(client: ZkClient): void {
    const epoch = this.linkEpoch;
    client.exists('/').then(
      () => {
        if (client !== this.client || !this.linkUp || epoch !== this.linkEpoch || this.stateValue === 'connected') return;
        if (this.stall.isStalled()) {
          this.confirmAfterStall(client);
          return;
        }
        this.log.info({ sessionId: client.sessionId }, 'ZooKeeper session confirmed after the stall');
        this.becomeConnected(client, epoch);
      },
      (err: unknown) => this.log.debug({ err }, 'confirmation after stall failed; waiting for the client'),
    );
  }

  private setState(next: SessionState): void {
    const previous = this.stateValue;
    if (previous === next) return;
    this.stateValue = next;
    this.log.debug({ state: next, previous }, 'session state');
    this.emit('state', next, previous);
  }

  private stallThresholdMs(timeoutMs: number): number {
    return Math.max(20, Math.floor(timeoutMs * (this.opts.stallFraction ?? 0.25)));
  }
}
