// The datagram side of sd_notify(3): one unbound AF_UNIX datagram socket (the `unix-dgram` native
// module: Node's dgram has no AF_UNIX) that sends each message to $NOTIFY_SOCKET with sendto(2),
// as libsystemd does, so a notify socket re-created by systemd is found again by its path.
import { getSystemErrorName } from 'node:util';
import unixDgram, { type UnixDgramError, type UnixDgramSocket } from 'unix-dgram';
import { GridkeeperError } from '../errors.js';

export type NotifyErrorCode =
  | 'NOTIFY_ADDRESS_UNSUPPORTED' // an address unix-dgram cannot reach: abstract (@name), vsock:, relative
  | 'NOTIFY_SEND_FAILED'; // sendto(2) failed: ENOENT or ECONNREFUSED (nobody listens), EAGAIN (queue full)

export class NotifyError extends GridkeeperError {
  readonly code: NotifyErrorCode;
  /** A send can succeed later (systemd back, queue drained); an unsupported address never will. */
  readonly retryable: boolean;
  readonly socket: string;

  constructor(code: NotifyErrorCode, socket: string, detail: string, options?: { cause?: unknown }) {
    super(`NOTIFY_SOCKET ${socket}: ${detail}`, options);
    this.code = code;
    this.socket = socket;
    this.retryable = code === 'NOTIFY_SEND_FAILED';
  }
}

export class NotifySocket {
  private socket: UnixDgramSocket | null = null;

  constructor(readonly address: string) {}

  /** Opens the sending socket; throws NotifyError NOTIFY_ADDRESS_UNSUPPORTED for an address it cannot reach. */
  start(): void {
    if (this.socket !== null) return;
    if (this.address.startsWith('@')) {
      // sd_notify(3) turns '@' into a leading NUL, but unix-dgram copies the path with strncpy,
      // which stops at that NUL: the datagram would go to an empty abstract name. systemd itself
      // (PID 1 and user managers) hands out a path, /run/systemd/notify.
      throw new NotifyError('NOTIFY_ADDRESS_UNSUPPORTED', this.address, 'abstract socket names cannot be reached through unix-dgram; nothing will be sent');
    }
    if (!this.address.startsWith('/')) {
      throw new NotifyError('NOTIFY_ADDRESS_UNSUPPORTED', this.address, 'only an absolute path is supported (not vsock: or a relative path); nothing will be sent');
    }
    this.socket = unixDgram.createSocket('unix_dgram');
  }

  /** One datagram of newline-separated assignments; throws NotifyError NOTIFY_SEND_FAILED. */
  send(message: string): void {
    const socket = this.socket;
    if (socket === null) throw new NotifyError('NOTIFY_SEND_FAILED', this.address, 'socket not open');
    const err = sendTo(socket, Buffer.from(message, 'utf8'), this.address);
    if (err !== undefined) throw new NotifyError('NOTIFY_SEND_FAILED', this.address, `sendto failed: ${errnoName(err.errno)}`, { cause: err });
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    if (socket === null) return;
    try {
      socket.close();
    } catch {
      // close(2) failing (EBADF) leaves nothing to release.
    }
  }
}

/** The error of one sendto(2), if any: unix-dgram runs the callback before send() returns. */
function sendTo(socket: UnixDgramSocket, buf: Buffer, path: string): UnixDgramError | undefined {
  let failure: UnixDgramError | undefined;
  socket.send(buf, 0, buf.length, path, (err) => {
    failure = err;
  });
  return failure;
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `errno ${errno}`;
  }
}
