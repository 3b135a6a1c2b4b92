// The one place that touches the native `zookeeper` package: one ZkClient wraps one native client
// instance for its whole life, turns its callbacks into promises with typed errors (ZkError) and its
// Stat objects into plain numbers. Facts about the package this relies on (checked in its source,
// lib/zookeeper.js and src/node-zk.cpp, version 7.3):
//  - events: 'connect' (session established or re-established), 'connecting' (the link was lost;
//    also fired while retrying), 'close' with a code: 0 after close(), else the session state that
//    ended it (ZK_STATE.EXPIRED_SESSION, ZK_STATE.AUTH_FAILED). A closed instance must never be used
//    again (the native side may crash), so every method checks `closed` first and fails with
//    CLOSING without touching it.
//  - a_* methods return a synchronous rc; when it is not 0 the callback is never called.
//  - `init` failing (e.g. a host name that does not resolve) does not throw: `timeout` then reads -1.
//  - Stat: czxid/mzxid are Numbers (exact below 2^53), ctime/mtime are Dates, ephemeralOwner is the
//    session id in lower-case hex without 0x ('0' for a persistent node); `client_id` is the same form.
//  - `timeout` is the negotiated session timeout once connected (zoo_recv_timeout).
//  - watcher callbacks also receive every session event (type -1, ZOO_SESSION_EVENT) without being
//    used up; only node events (created/deleted/changed/child) are passed on.
//  - its create always uses an open ACL (ZOO_OPEN_ACL_UNSAFE); callers set_acl right after.
//  - zookeeper_process() returning "nothing" `response_counter_limit` times in a row (default 10)
//    makes it close the session as expired; a large getChildren answer alone can reach ~80.
//  - a request issued on a connection the peer has just closed fails to send, and the C library
//    (nonblocking_send) then drops the socket and sets its state to NOTCONNECTED WITHOUT a
//    'connecting' event; requests in flight only fail at the next connection attempt. Seen in tests:
//    most link cuts under load went unreported. So after every request, and on checkLink(), the
//    native state is read and a state other than connected is reported as a lost link.
import ZooKeeper from 'zookeeper';
import { ZK_RC, ZkError } from './errors.js';

export type CreateMode = 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential';
export type WatchEventType = 'created' | 'deleted' | 'changed' | 'child' | 'notwatching';
export type WatchCallback = (event: WatchEventType) => void;

/** A znode's Stat with times as ms since the epoch (server clock) and the owner as `0x...`. */
export interface ZkStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctimeMs: number;
  mtimeMs: number;
  version: number;
  cversion: number;
  aversion: number;
  /** `0x...` session id for an ephemeral node, null for a persistent one. */
  ephemeralOwner: string | null;
  dataLength: number;
  numChildren: number;
}

/** One ACL entry: `perms` is a bit set of ZK_PERM; `id` is e.g. `anyone` or `user:base64hash`. */
export interface ZkAcl {
  perms: number;
  scheme: string;
  id: string;
}

export const ZK_PERM = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const;

export interface ZkClientOptions {
  connect: string;
  sessionTimeoutMs: number;
  /** See the header: raised far above the package's default of 10. */
  responseCounterLimit: number;
  /** The C library's own log on stderr: 0 off, 1 error, 2 warn, 3 info, 4 debug. */
  nativeLogLevel: 0 | 1 | 2 | 3 | 4;
}

export interface ZkClientHandlers {
  onConnect(): void;
  onConnecting(): void;
  /** The instance is closed: by us (CLOSED_BY_CLIENT), or by the library with the state that ended it (ZK_STATE). */
  onClose(code: number): void;
}

const ZOO = ZooKeeper.constants;

/**
 * Session states of the C client (zookeeper.h, ZOO_*_STATE): what `state` reads, and the code of a
 * `close` the library makes. READONLY and NOTCONNECTED are not exported by the package.
 */
export const ZK_STATE = {
  EXPIRED_SESSION: ZOO.ZOO_EXPIRED_SESSION_STATE,
  AUTH_FAILED: ZOO.ZOO_AUTH_FAILED_STATE,
  CONNECTING: ZOO.ZOO_CONNECTING_STATE,
  ASSOCIATING: ZOO.ZOO_ASSOCIATING_STATE,
  CONNECTED: ZOO.ZOO_CONNECTED_STATE,
  READONLY: 5,
  NOTCONNECTED: 999,
} as const;

/** The code of the `close` that follows our own close(). */
export const CLOSED_BY_CLIENT = 0;

/** States in which requests go out: connected, also to a read-only server. */
const CONNECTED_STATES: ReadonlySet<number> = new Set([ZK_STATE.CONNECTED, ZK_STATE.READONLY]);

const CREATE_FLAGS: Record<CreateMode, number> = {
  persistent: ZOO.ZOO_PERSISTENT,
  ephemeral: ZOO.ZOO_EPHEMERAL,
  persistent_sequential: ZOO.ZOO_PERSISTENT_SEQUENTIAL,
  ephemeral_sequential: ZOO.ZOO_EPHEMERAL_SEQUENTIAL,
};

const EVENT_TYPES: Readonly<Record<number, WatchEventType>> = {
  [ZOO.ZOO_CREATED_EVENT]: 'created',
  [ZOO.ZOO_DELETED_EVENT]: 'deleted',
  [ZOO.ZOO_CHANGED_EVENT]: 'changed',
  [ZOO.ZOO_CHILD_EVENT]: 'child',
  [ZOO.ZOO_NOTWATCHING_EVENT]: 'notwatching',
};

/** Formats a session id the way operators see it in zkCli: `0x` and lower-case hex. */
export function formatSessionId(hex: string): string {
  const digits = hex.replace(/^0x/i, '').toLowerCase().replace(/^0+(?=.)/, '');
  return `0x${digits}`;
}

type RcCallback = (rc: number, error: unknown, ...rest: unknown[]) => void;

export class ZkClient {
  private readonly native: ZooKeeper;
  private closedFlag = false;
  /** The last link event we passed on was `connect` (and no lost link was seen since). */
  private linkUp = false;

  constructor(
    private readonly opts: ZkClientOptions,
    private readonly handlers: ZkClientHandlers,
  ) {
    this.native = new ZooKeeper({
      connect: opts.connect,
      timeout: opts.sessionTimeoutMs,
      debug_level: opts.nativeLogLevel,
      host_order_deterministic: false,
      response_counter_limit: opts.responseCounterLimit,
    });
    this.native.on('connect', () => {
      if (this.closedFlag) return;
      this.linkUp = true;
      this.handlers.onConnect();
    });
    this.native.on('connecting', () => {
      if (this.closedFlag) return;
      this.linkUp = false;
      this.handlers.onConnecting();
    });
    this.native.on('close', (_self: unknown, code: unknown) => {
      if (this.closedFlag) return;
      this.closedFlag = true;
      this.handlers.onClose(typeof code === 'number' ? code : CLOSED_BY_CLIENT);
    });
  }

  /** Starts connecting. False when the library could not even start (e.g. unresolvable host). */
  init(): boolean {
    this.native.init({});
    return this.native.timeout !== -1;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** `0x...` once a session is established, else null. */
  get sessionId(): string | null {
    if (this.closedFlag) return null;
    const id = String(this.native.client_id);
    return /^0*$/.test(id) ? null : formatSessionId(id);
  }

  /** The session timeout the server granted (the requested one before the first connect). */
  get negotiatedTimeoutMs(): number {
    if (this.closedFlag) return this.opts.sessionTimeoutMs;
    const t = this.native.timeout;
    return t > 0 ? t : this.opts.sessionTimeoutMs;
  }

  /**
   * Reports a link the library dropped without telling (see the header) as lost, at once.
   * Cheap (reads one native field); called after every request and periodically by the session.
   */
  checkLink(): void {
    if (this.closedFlag || !this.linkUp) return;
    if (CONNECTED_STATES.has(this.native.state)) return;
    this.linkUp = false;
    this.handlers.onConnecting();
  }

  /** Closes exactly once; a no-op afterwards. Ephemeral nodes of the session vanish at once. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.native.close();
    this.handlers.onClose(CLOSED_BY_CLIENT);
  }

  addAuth(scheme: string, auth: string): Promise<void> {
    return this.call('addAuth', null, (cb) => this.native.add_auth(scheme, auth, cb), () => undefined);
  }

  create(path: string, data: Buffer, mode: CreateMode): Promise<string> {
    return this.call('create', path, (cb) => this.native.a_create(path, data, CREATE_FLAGS[mode], cb), (rest) =>
      String(rest[0]),
    );
  }

  /** The node's Stat, or null when it does not exist. `watch` fires once on its next change. */
  exists(path: string, watch?: WatchCallback): Promise<ZkStat | null> {
    return new Promise((resolve, reject) => {
      const cb: RcCallback = (rc, _error, stat) => {
        if (rc === ZK_RC.OK) resolve(parseStat(stat));
        else if (rc === ZK_RC.NONODE) resolve(null);
        else reject(new ZkError(rc, 'exists', path));
      };
      this.invoke('exists', path, reject, () =>
        watch ? this.native.aw_exists(path, this.watcher(watch), cb) : this.native.a_exists(path, false, cb),
      );
    });
  }

  get(path: string, watch?: WatchCallback): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.call(
      'get',
      path,
      (cb) => (watch ? this.native.aw_get(path, this.watcher(watch), cb) : this.native.a_get(path, false, cb)),
      (rest) => ({ stat: parseStat(rest[0]), data: Buffer.isBuffer(rest[1]) ? rest[1] : Buffer.alloc(0) }),
    );
  }

  getChildren(path: string, watch?: WatchCallback): Promise<string[]> {
    return this.call(
      'getChildren',
      path,
      (cb) =>
        watch ? this.native.aw_get_children(path, this.watcher(watch), cb) : this.native.a_get_children(path, false, cb),
      (rest) => parseStrings(rest[0]),
    );
  }

  set(path: string, data: Buffer, version = -1): Promise<ZkStat> {
    return this.call('set', path, (cb) => this.native.a_set(path, data, version, cb), (rest) => parseStat(rest[0]));
  }

  delete(path: string, version = -1): Promise<void> {
    return this.call('delete', path, (cb) => this.native.a_delete_(path, version, cb), () => undefined);
  }

  getAcl(path: string): Promise<ZkAcl[]> {
    return this.call('getAcl', path, (cb) => this.native.a_get_acl(path, cb), (rest) => parseAcl(rest[0]));
  }

  setAcl(path: string, acl: readonly ZkAcl[], version = -1): Promise<void> {
    const native = acl.map((a) => ({ perms: a.perms, scheme: a.scheme, auth: a.id }));
    return this.call('setAcl', path, (cb) => this.native.a_set_acl(path, version, native, cb), () => undefined);
  }

  /** Makes the server we talk to catch up with the leader (reads after it see every earlier write). */
  sync(path: string): Promise<void> {
    return this.call('sync', path, (cb) => this.native.a_sync(path, cb), () => undefined);
  }

  private call<T>(op: string, path: string | null, start: (cb: RcCallback) => unknown, parse: (rest: unknown[]) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cb: RcCallback = (rc, _error, ...rest) => {
        if (rc !== ZK_RC.OK) {
          reject(new ZkError(rc, op, path));
          return;
        }
        try {
          resolve(parse(rest));
        } catch (err) {
          reject(err);
        }
      };
      this.invoke(op, path, reject, () => start(cb));
    });
  }

  /** Runs a native a_* call unless closed; a non-zero synchronous rc means no callback will come. */
  private invoke(op: string, path: string | null, reject: (err: unknown) => void, start: () => unknown): void {
    if (this.closedFlag) {
      reject(new ZkError(ZK_RC.CLOSING, op, path, 'the client is closed'));
      return;
    }
    const rc = start();
    if (typeof rc === 'number' && rc !== ZK_RC.OK) reject(new ZkError(rc, op, path));
    this.checkLink();
  }

  private watcher(watch: WatchCallback): (type: number) => void {
    return (type: number) => {
      if (this.closedFlag) return;
      const event = EVENT_TYPES[type];
      if (event !== undefined) watch(event);
    };
  }
}

function parseStat(value: unknown): ZkStat {
  if (typeof value !== 'object' || value === null) throw new TypeError('ZooKeeper returned no Stat');
  const v = value as Record<string, unknown>;
  const num = (key: string): number => {
    const x = v[key];
    if (typeof x === 'number') return x;
    if (x instanceof Date) return x.getTime();
    throw new TypeError(`ZooKeeper Stat field ${key} is not a number: ${String(x)}`);
  };
  const owner = String(v.ephemeralOwner ?? '0');
  return {
    czxid: num('czxid'),
    mzxid: num('mzxid'),
    pzxid: num('pzxid'),
    ctimeMs: num('ctime'),
    mtimeMs: num('mtime'),
    version: num('version'),
    cversion: num('cversion'),
    aversion: num('aversion'),
    ephemeralOwner: /^0*$/.test(owner) ? null : formatSessionId(owner),
    dataLength: num('dataLength'),
    numChildren: num('numChildren'),
  };
}

function parseStrings(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((x) => String(x));
}

function parseAcl(value: unknown): ZkAcl[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry: unknown) => {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    return { perms: Number(e.perms ?? e.perm ?? 0), scheme: String(e.scheme ?? ''), id: String(e.auth ?? '') };
  });
}
