// Modbus TCP client framing over one net.Socket: MBAP header (transaction id, protocol id 0, length,
// unit id) + PDU. Responses are matched by transaction id, so a late answer to a request that already
// timed out is recognised and dropped, never taken as the answer to the next request; the
// connection is kept. An answer carrying any other transaction id fails the request in flight with
// BadResponseError at once (its real answer, should it come, is dropped as late). A header that
// cannot be Modbus (protocol id not 0, impossible length) means the byte stream has lost its
// framing: the request fails and the connection is dropped, since nothing after it can be trusted.
import net from 'node:net';
import type { Logger } from 'pino';
import { BadResponseError, TimeoutError, TransportError, type RequestContext } from '../errors.js';
import { transportErrorFrom, type Exchange, type Transport } from './transport.js';

const MBAP_LENGTH = 7; // transaction id 2, protocol id 2, length 2, unit id 1
/** Largest MBAP length field: unit id + a 253-byte PDU. */
const MAX_FRAME_LENGTH = 254;
/** How many transaction ids of abandoned (timed-out) requests are remembered to drop their late answers. */
const ABANDONED_REMEMBERED = 64;
const KEEPALIVE_DELAY_MS = 10_000;

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** Connect attempts give up after this long. */
  connectTimeoutMs: number;
}

interface InFlight {
  transactionId: number;
  unitId: number;
  context: RequestContext;
  resolve: (pdu: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One TCP connection and everything that belongs to it. */
interface Connection {
  socket: net.Socket;
  rx: Buffer;
  inFlight: InFlight | null;
  /** Transaction ids of requests given up on this connection: their late answers are dropped. */
  abandoned: number[];
  /** close() was called: the end is not a loss. */
  closing: boolean;
  /** The loss was reported to the bus (at most once). */
  lost: boolean;
  onLost: (err: TransportError) => void;
  openContext: RequestContext;
}

export class TcpTransport implements Transport {
  readonly label: string;
  private conn: Connection | null = null;
  private nextTransactionId = 1;

  constructor(
    private readonly opts: TcpTransportOptions,
    private readonly deps: { logger: Logger },
  ) {
    this.label = `tcp ${opts.host}:${opts.port}`;
  }

  open(context: RequestContext, onLost: (err: TransportError) => void): Promise<void> {
    if (this.conn !== null) return Promise.reject(new TransportError('TRANSPORT_FAILED', `${this.label} is already open`, context));
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.opts.host, port: this.opts.port });
      const conn: Connection = {
        socket,
        rx: Buffer.alloc(0),
        inFlight: null,
        abandoned: [],
        closing: false,
        lost: false,
        onLost,
        openContext: context,
      };
      this.conn = conn;
      let connected = false;
      let lastError: unknown = null;
      const connectTimer = setTimeout(() => {
        lastError = new Error(`connect to ${this.opts.host}:${this.opts.port} timed out after ${this.opts.connectTimeoutMs}ms`);
        socket.destroy();
      }, this.opts.connectTimeoutMs);

      socket.once('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
        socket.setNoDelay(true);
        socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
      socket.on('error', (err) => {
        lastError = err;
      });
      socket.once('close', () => {
        clearTimeout(connectTimer);
        if (this.conn === conn) this.conn = null;
        if (!connected) {
          reject(transportErrorFrom(lastError ?? new Error(`${this.label} closed while connecting`), context));
          return;
        }
        const why = conn.closing ? 'closed by this side' : lastError instanceof Error ? lastError.message : 'closed by the peer';
        this.failInFlight(conn, (ctx) => new TransportError('CONNECTION_CLOSED', `${this.label} ${why}`, ctx));
        this.reportLoss(conn, lastError === null ? new TransportError('CONNECTION_CLOSED', `${this.label} ${why}`, context) : transportErrorFrom(lastError, context, 'CONNECTION_CLOSED'));
      });
    });
  }

  exchange(x: Exchange): Promise<Buffer> {
    const conn = this.conn;
    if (conn === null || conn.socket.connecting) {
      return Promise.reject(new TransportError('PORT_NOT_OPEN', `${this.label} is not connected`, x.context));
    }
    if (conn.socket.destroyed) {
      // Gone, but its 'close' event is still on its way: report the loss now.
      const err = new TransportError('CONNECTION_CLOSED', `${this.label} connection gone`, x.context);
      this.reportLoss(conn, err);
      return Promise.reject(err);
    }
    if (conn.inFlight !== null) {
      return Promise.reject(new TransportError('TRANSPORT_FAILED', `${this.label}: a request is already in flight`, x.context));
    }
    const transactionId = this.nextTransactionId;
    this.nextTransactionId = (this.nextTransactionId % 0xffff) + 1;
    // Pooled, not zero-filled: the header and the PDU below fill every byte.
    const adu = Buffer.allocUnsafe(MBAP_LENGTH + x.pdu.length);
    adu.writeUInt16BE(transactionId, 0);
    adu.writeUInt16BE(0, 2);
    adu.writeUInt16BE(1 + x.pdu.length, 4);
    adu.writeUInt8(x.unitId, 6);
    x.pdu.copy(adu, MBAP_LENGTH);

    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (conn.inFlight?.transactionId !== transactionId) return;
        conn.inFlight = null;
        abandon(conn, transactionId);
        reject(new TimeoutError(x.timeoutMs, x.context));
      }, x.timeoutMs);
      conn.inFlight = { transactionId, unitId: x.unitId, context: x.context, resolve, reject, timer };
      conn.socket.write(adu);
    });
  }

  async close(): Promise<void> {
    const conn = this.conn;
    if (conn === null) return;
    conn.closing = true;
    this.conn = null;
    if (conn.socket.closed) return;
    await new Promise<void>((resolve) => {
      conn.socket.once('close', () => resolve());
      conn.socket.destroy();
    });
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (conn.socket.destroyed) return;
    conn.rx = conn.rx.length === 0 ? chunk : Buffer.concat([conn.rx, chunk]);
    while (conn.rx.length >= MBAP_LENGTH) {
      const transactionId = conn.rx.readUInt16BE(0);
      const protocolId = conn.rx.readUInt16BE(2);
      const length = conn.rx.readUInt16BE(4);
      if (protocolId !== 0 || length < 2 || length > MAX_FRAME_LENGTH) {
        this.loseFraming(conn, `not a Modbus TCP header (protocol id ${protocolId}, length ${length})`);
        return;
      }
      if (conn.rx.length < 6 + length) return; // the rest of the frame is still on its way
      const unitId = conn.rx.readUInt8(6);
      const pdu = Buffer.from(conn.rx.subarray(MBAP_LENGTH, 6 + length));
      conn.rx = conn.rx.subarray(6 + length);
      this.onFrame(conn, transactionId, unitId, pdu);
    }
  }

  private onFrame(conn: Connection, transactionId: number, unitId: number, pdu: Buffer): void {
    const req = conn.inFlight;
    if (req !== null && transactionId === req.transactionId) {
      conn.inFlight = null;
      clearTimeout(req.timer);
      if (unitId !== req.unitId) req.reject(new BadResponseError(`unit id ${unitId}, expected ${req.unitId}`, req.context));
      else req.resolve(pdu);
      return;
    }
    if (conn.abandoned.includes(transactionId)) {
      this.deps.logger.debug({ transport: this.label, transactionId }, 'late answer to an abandoned request dropped');
      return;
    }
    if (req === null) {
      this.deps.logger.debug({ transport: this.label, transactionId }, 'unsolicited answer dropped');
      return;
    }
    this.failInFlight(conn, (ctx) => new BadResponseError(`transaction id ${transactionId}, expected ${req.transactionId}`, ctx));
  }

  /** Garbage on the stream: fail the request, drop the connection and tell the bus right away. */
  private loseFraming(conn: Connection, detail: string): void {
    this.failInFlight(conn, (ctx) => new BadResponseError(detail, ctx));
    conn.rx = Buffer.alloc(0);
    this.deps.logger.warn({ transport: this.label, detail }, 'framing lost, dropping the connection');
    conn.socket.destroy();
    this.reportLoss(conn, new TransportError('CONNECTION_CLOSED', `${this.label} dropped after garbage: ${detail}`, conn.openContext));
  }

  private reportLoss(conn: Connection, err: TransportError): void {
    if (this.conn === conn) this.conn = null;
    if (conn.lost || conn.closing) return;
    conn.lost = true;
    conn.onLost(err);
  }

  private failInFlight(conn: Connection, makeError: (ctx: RequestContext) => Error): void {
    const req = conn.inFlight;
    if (req === null) return;
    conn.inFlight = null;
    clearTimeout(req.timer);
    abandon(conn, req.transactionId);
    req.reject(makeError(req.context));
  }
}

function abandon(conn: Connection, transactionId: number): void {
  conn.abandoned.push(transactionId);
  if (conn.abandoned.length > ABANDONED_REMEMBERED) conn.abandoned.shift();
}
