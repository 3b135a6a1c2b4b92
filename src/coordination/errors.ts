// Typed errors of the ZooKeeper side. The native client's numeric return codes become a ZkError
// carrying ZooKeeper's own code name (NONODE, NODEEXISTS, NOAUTH, CONNECTIONLOSS, SESSIONEXPIRED...),
// so callers switch on `code`, never on message text. Messages name the operation and the path.
import { GridkeeperError } from '../errors.js';

/** ZooKeeper's error codes (zookeeper.h, ZOO_ERRORS) by number, as their names without the `Z`. */
const ZK_CODE_NAMES = {
  [-1]: 'SYSTEMERROR',
  [-2]: 'RUNTIMEINCONSISTENCY',
  [-3]: 'DATAINCONSISTENCY',
  [-4]: 'CONNECTIONLOSS',
  [-5]: 'MARSHALLINGERROR',
  [-6]: 'UNIMPLEMENTED',
  [-7]: 'OPERATIONTIMEOUT',
  [-8]: 'BADARGUMENTS',
  [-9]: 'INVALIDSTATE',
  [-13]: 'NEWCONFIGNOQUORUM',
  [-14]: 'RECONFIGINPROGRESS',
  [-15]: 'SSLCONNECTIONERROR',
  [-100]: 'APIERROR',
  [-101]: 'NONODE',
  [-102]: 'NOAUTH',
  [-103]: 'BADVERSION',
  [-108]: 'NOCHILDRENFOREPHEMERALS',
  [-110]: 'NODEEXISTS',
  [-111]: 'NOTEMPTY',
  [-112]: 'SESSIONEXPIRED',
  [-113]: 'INVALIDCALLBACK',
  [-114]: 'INVALIDACL',
  [-115]: 'AUTHFAILED',
  [-116]: 'CLOSING',
  [-117]: 'NOTHING',
  [-118]: 'SESSIONMOVED',
  [-119]: 'NOTREADONLY',
  [-120]: 'EPHEMERALONLOCALSESSION',
  [-121]: 'NOWATCHER',
  [-123]: 'RECONFIGDISABLED',
  [-124]: 'SESSIONCLOSEDREQUIRESASLAUTH',
  [-127]: 'THROTTLEDOP',
} as const;

export type ZkErrorCode = (typeof ZK_CODE_NAMES)[keyof typeof ZK_CODE_NAMES] | 'UNKNOWN';

/** Codes after which the same operation may succeed later (on a reconnected or a new session). */
const RETRYABLE: ReadonlySet<ZkErrorCode> = new Set<ZkErrorCode>([
  'CONNECTIONLOSS',
  'OPERATIONTIMEOUT',
  'SESSIONEXPIRED',
  'SESSIONMOVED',
  'CLOSING',
  'THROTTLEDOP',
]);

export function zkCodeName(rc: number): ZkErrorCode {
  const names: Readonly<Record<number, ZkErrorCode>> = ZK_CODE_NAMES;
  return names[rc] ?? 'UNKNOWN';
}

/** A ZooKeeper operation failed: `code` is ZooKeeper's name for it, `rc` the native number. */
export class ZkError extends GridkeeperError {
  readonly code: ZkErrorCode;
  readonly retryable: boolean;
  /** The native return code, e.g. -101 for NONODE. */
  readonly rc: number;
  /** The operation, e.g. `create`, `getChildren`. */
  readonly op: string;
  readonly path: string | null;

  constructor(rc: number, op: string, path: string | null, detail?: string) {
    const code = zkCodeName(rc);
    const where = path === null ? '' : ` ${path}`;
    super(`ZooKeeper ${op}${where} failed: ${code} (${rc})${detail ? `: ${detail}` : ''}`);
    this.code = code;
    this.rc = rc;
    this.op = op;
    this.path = path;
    this.retryable = RETRYABLE.has(code);
  }
}

/** Native return codes used in logic (the rest only travel inside a ZkError). */
export const ZK_RC = {
  OK: 0,
  CONNECTIONLOSS: -4,
  INVALIDSTATE: -9,
  NONODE: -101,
  NOAUTH: -102,
  NODEEXISTS: -110,
  SESSIONEXPIRED: -112,
  AUTHFAILED: -115,
  CLOSING: -116,
} as const;

export function isZkError(err: unknown, ...codes: ZkErrorCode[]): err is ZkError {
  return err instanceof ZkError && (codes.length === 0 || codes.includes(err.code));
}

export type CredentialsErrorCode = 'CREDENTIALS_UNREADABLE' | 'CREDENTIALS_INSECURE' | 'CREDENTIALS_MALFORMED';

/** The digest credentials file cannot be used. Fix the file; retrying cannot help. */
export class CredentialsError extends GridkeeperError {
  readonly code: CredentialsErrorCode;
  readonly retryable = false;
  readonly file: string;
  /** What is wrong with the file, without naming the key: `mode 0644 lets group or others read it; ...`. */
  readonly detail: string;

  constructor(code: CredentialsErrorCode, file: string, detail: string, options?: { cause?: unknown }) {
    super(`zookeeper.auth.credentialsFile ${file}: ${detail}`, options);
    this.code = code;
    this.file = file;
    this.detail = detail;
  }
}

/** Where the agent holding a node runs, from its agent document; null where the document does not say. */
export interface AgentHolder {
  host: string | null;
  pid: number | null;
  startedAt: string | null;
}

/**
 * Another live ZooKeeper session keeps `agents/<agentId>`: a second agent runs with this id. A node
 * left by our own previous process would have vanished within its session timeout. Not fatal: the
 * agent that finds it keeps polling without publishing or queueing for the lock, and takes over
 * when the node goes (site-coordinator.ts).
 */
export class DuplicateAgentError extends GridkeeperError {
  readonly code = 'DUPLICATE_AGENT';
  readonly retryable = false;
  readonly path: string;
  /** The session that holds the node, `0x...`. */
  readonly ownerSessionId: string;
  readonly holder: AgentHolder;

  constructor(path: string, ownerSessionId: string, waitedMs: number, holder: AgentHolder) {
    const where = [
      holder.host === null ? null : `host ${holder.host}`,
      holder.pid === null ? null : `pid ${holder.pid}`,
      holder.startedAt === null ? null : `started ${holder.startedAt}`,
    ].filter((x) => x !== null);
    super(
      `A second live agent with this id exists: ${path} is held by ZooKeeper session ${ownerSessionId}` +
        `${where.length > 0 ? ` (${where.join(', ')})` : ''} and did not go away within ${waitedMs}ms; ` +
        'this agent polls but neither publishes nor queues for the lock while it is there: ' +
        'give each agent its own agent.id, or stop the other one',
    );
    this.path = path;
    this.ownerSessionId = ownerSessionId;
    this.holder = holder;
  }
}

/**
 * The chroot of the connect string (`zk1:2181/energy`) names a node the ensemble does not have, so
 * ZooKeeper would answer NONODE for every path. Retrying cannot help until someone creates it.
 */
export class ChrootMissingError extends GridkeeperError {
  readonly code = 'CHROOT_MISSING';
  readonly retryable = false;
  readonly chroot: string;
  readonly connect: string;

  constructor(connect: string, chroot: string, why: string, options?: { cause?: unknown }) {
    super(`ZooKeeper has no node ${chroot}, the chroot of the connect string ${connect}: ${why}`, options);
    this.chroot = chroot;
    this.connect = connect;
  }
}

/** Data too large for one znode (ZooKeeper's jute.maxbuffer is about 1 MB). */
export class ZnodeTooLargeError extends GridkeeperError {
  readonly code = 'ZNODE_TOO_LARGE';
  readonly retryable = false;
  readonly path: string;
  readonly bytes: number;

  constructor(path: string, bytes: number, maxBytes: number) {
    super(`Data for ${path} is ${bytes} bytes, more than the ${maxBytes} bytes a znode may hold`);
    this.path = path;
    this.bytes = bytes;
  }
}

/** A coordination step did not finish in time (e.g. deleting our node on close over a dead link). */
export class CoordinationTimeoutError extends GridkeeperError {
  readonly code = 'TIMEOUT';
  readonly retryable = true;
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super(`Timeout after ${timeoutMs}ms [${what}]`);
    this.timeoutMs = timeoutMs;
  }
}

/** No ZooKeeper session within the time a one-shot tool waits (`gridkeeper status`, `command`). */
export class ConnectTimeoutError extends GridkeeperError {
  readonly code = 'CONNECT_TIMEOUT';
  readonly retryable = true;
  readonly connect: string;
  readonly timeoutMs: number;

  constructor(connect: string, timeoutMs: number) {
    super(`could not connect to ZooKeeper at ${connect} within ${timeoutMs} ms`);
    this.connect = connect;
    this.timeoutMs = timeoutMs;
  }
}

/** A znode of the site tree holds something other than the document CONTRACT.md section 3 gives it. */
export class InvalidDocumentError extends GridkeeperError {
  readonly code = 'INVALID_DOCUMENT';
  readonly retryable = false;
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`${path} is not a valid document: ${reason}`);
    this.path = path;
  }
}
