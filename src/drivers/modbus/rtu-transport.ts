// Modbus RTU client framing over one serial port: unit id + PDU + CRC-16. RTU has no transaction
// ids, so what protects a request from someone else's bytes is timing and checking:
//  - the receive buffer is emptied right before each request goes out;
//  - a complete frame with a valid CRC from another unit or for another function code is a late
//    answer to an earlier request: it is dropped and the wait goes on;
//  - after a timeout or an unusable answer the line must stay silent for `silenceMs` (at least 3.5
//    character times) before the exchange returns, so the tail of a slow or broken answer is not
//    read as the start of the next one; the wait is capped by the request's timeoutMs.
// A late answer from the same unit to a read of the same length is indistinguishable from the
// answer to a repeat of that read: an RTU protocol limit that the silence wait makes unlikely.
import { SerialPort } from 'serialport';
import type { Logger } from 'pino';
import type { Parity } from '../../config/types.js';
import { BadResponseError, TimeoutError, TransportError, type RequestContext, type TransportErrorCode } from '../errors.js';
import { hasValidCrc, withCrc } from './crc16.js';
import { describeTransportFailure, transportErrorFrom, type Exchange, type Transport } from './transport.js';

/** Smallest silence waited for after a failure; serial adapters and ptys buffer in chunks of a few ms. */
const MIN_SILENCE_MS = 20;

export interface RtuTransportOptions {
  path: string;
  baudRate: number;
  parity: Parity;
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

interface InFlight {
  unitId: number;
  fc: number;
  /** Length of the whole normal response frame: unit id + PDU + CRC. */
  frameLength: number;
  context: RequestContext;
  timeoutMs: number;
  resolve: (pdu: Buffer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
}

interface Connection {
  port: SerialPort;
  /** close() was called: the end is not a loss. */
  closing: boolean;
  /** The loss was reported to the bus (at most once). */
  lost: boolean;
  onLost: (err: TransportError) => void;
  openContext: RequestContext;
  /** Settles once the port is closed for good (or failed to open): its lock is released then. */
  closed: Promise<void>;
  markClosed: () => void;
}

export class RtuTransport implements Transport {
  readonly label: string;
  /** Silence that separates frames after a failure (ms). */
  readonly silenceMs: number;
  /** 3.5 character times at the configured line settings (ms): the RTU inter-frame gap. */
  private readonly interFrameMs: number;
  private conn: Connection | null = null;
  private rx: Buffer = Buffer.alloc(0);
  private lastRxAtMs = 0;
  private inFlight: InFlight | null = null;

  constructor(
    private readonly opts: RtuTransportOptions,
    private readonly deps: { logger: Logger },
  ) {
    this.label = `rtu ${opts.path}`;
    const bitsPerChar = 1 + opts.dataBits + (opts.parity === 'none' ? 0 : 1) + opts.stopBits;
    this.interFrameMs = (3.5 * bitsPerChar * 1000) / opts.baudRate;
    this.silenceMs = Math.max(MIN_SILENCE_MS, Math.ceil(this.interFrameMs));
  }

  open(context: RequestContext, onLost: (err: TransportError) => void): Promise<void> {
    if (this.conn !== null) return Promise.reject(new TransportError('TRANSPORT_FAILED', `${this.label} is already open`, context));
    return new Promise((resolve, reject) => {
      let port: SerialPort;
      try {
        port = new SerialPort({
          path: this.opts.path,
          baudRate: this.opts.baudRate,
          parity: this.opts.parity,
          dataBits: this.opts.dataBits,
          stopBits: this.opts.stopBits,
          autoOpen: false,
        });
      } catch (err) {
        reject(transportErrorFrom(err, context));
        return;
      }
      let markClosed: () => void = () => {};
      const closed = new Promise<void>((done) => {
        markClosed = done;
      });
      const conn: Connection = { port, closing: false, lost: false, onLost, openContext: context, closed, markClosed };
      this.conn = conn;
      let opened = false;
      let lastError: unknown = null;
      port.on('error', (err) => {
        lastError = err;
        this.deps.logger.debug({ transport: this.label, err }, 'serial port error');
        if (opened) this.lose(conn, { ...describeTransportFailure(err), cause: err });
      });
      port.on('data', (chunk: Buffer) => this.onData(conn, chunk));
      port.once('close', (disconnectError: unknown) => {
        markClosed();
        const cause = disconnectError ?? lastError;
        const detail = conn.closing
          ? `${this.label} closed by this side`
          : `${this.label} ${cause instanceof Error ? cause.message : 'closed'}`;
        if (opened) this.lose(conn, { code: 'CONNECTION_CLOSED', detail, cause });
        else if (this.conn === conn) this.conn = null;
      });
      port.open((err) => {
        if (err) {
          if (this.conn === conn) this.conn = null;
          markClosed();
          reject(transportErrorFrom(err, context));
          return;
        }
        if (conn.closing) {
          // close() came while the port was opening: finish the close it could not do.
          port.close(() => {
            markClosed();
            reject(new TransportError('PORT_NOT_OPEN', `${this.label} closed while opening`, context));
          });
          return;
        }
        opened = true;
        resolve();
      });
    });
  }

  async exchange(x: Exchange): Promise<Buffer> {
    const conn = this.conn;
    if (conn === null) throw new TransportError('PORT_NOT_OPEN', `${this.label} is not open`, x.context);
    if (!conn.port.isOpen) {
      // Closed without telling us (yet): report the loss now so the bus reopens it.
      this.lose(conn, { code: 'CONNECTION_CLOSED', detail: `${this.label} is no longer open`, cause: undefined });
      throw new TransportError('CONNECTION_CLOSED', `${this.label} is no longer open`, x.context);
    }
    if (this.inFlight !== null) {
      throw new TransportError('TRANSPORT_FAILED', `${this.label}: a request is already in flight`, x.context);
    }
    const fc = x.pdu[0] ?? 0;
    // Keep the RTU inter-frame gap after whatever was last on the line.
    const gapLeftMs = this.lastRxAtMs + this.interFrameMs - performance.now();
    if (gapLeftMs > 0) await sleep(gapLeftMs);
    if (this.conn !== conn || !conn.port.isOpen) {
      throw new TransportError('PORT_NOT_OPEN', `${this.label} is not open`, x.context);
    }
    const frame = withCrc(Buffer.concat([Buffer.of(x.unitId), x.pdu]));
    return new Promise<Buffer>((resolve, reject) => {
      const req: InFlight = {
        unitId: x.unitId,
        fc,
        frameLength: 1 + x.expectedLength + 2,
        context: x.context,
        timeoutMs: x.timeoutMs,
        resolve,
        reject,
        timer: null,
      };
      req.timer = setTimeout(() => this.failAfterSilence(req, new TimeoutError(x.timeoutMs, x.context)), x.timeoutMs);
      this.rx = Buffer.alloc(0);
      this.inFlight = req;
      conn.port.write(frame, (err) => {
        if (err) this.lose(conn, { ...describeTransportFailure(err), cause: err });
      });
    });
  }

  async close(): Promise<void> {
    const conn = this.conn;
    if (conn === null) return;
    conn.closing = true;
    this.conn = null;
    this.failInFlight((ctx) => new TransportError('CONNECTION_CLOSED', `${this.label} closed by this side`, ctx));
    // Still opening: the open callback sees `closing` and closes it. Either way wait for the port to
    // be really closed, so that whoever opens the path next does not find it locked.
    if (conn.port.isOpen) conn.port.close(() => conn.markClosed());
    await conn.closed;
  }

  private onData(conn: Connection, chunk: Buffer): void {
    if (this.conn !== conn) return;
    this.lastRxAtMs = performance.now();
    const req = this.inFlight;
    if (req === null) {
      this.deps.logger.debug({ transport: this.label, bytes: chunk.length }, 'bytes outside a request dropped');
      return;
    }
    this.rx = this.rx.length === 0 ? chunk : Buffer.concat([this.rx, chunk]);
    this.scan(req);
  }

  /** Looks for the answer to `req` in the receive buffer, skipping complete stale frames. */
  private scan(req: InFlight): void {
    while (this.rx.length >= 2) {
      const unitId = this.rx[0] ?? 0;
      const fc = this.rx[1] ?? 0;
      const ours = unitId === req.unitId && (fc === req.fc || fc === (req.fc | 0x80));
      const length = ours ? (fc === req.fc ? req.frameLength : 5) : foreignFrameLength(this.rx);
      if (length === 'unknown') {
        this.failAfterSilence(req, new BadResponseError(`unexpected frame start: unit ${unitId}, function code ${fc}`, req.context));
        return;
      }
      if (length === 'need-more' || this.rx.length < length) return;
      const frame = this.rx.subarray(0, length);
      if (!hasValidCrc(frame)) {
        this.failAfterSilence(req, new BadResponseError(`CRC error in a ${length}-byte frame`, req.context));
        return;
      }
      if (ours) {
        this.inFlight = null;
        if (req.timer !== null) clearTimeout(req.timer);
        req.resolve(Buffer.from(frame.subarray(1, length - 2)));
        return;
      }
      this.deps.logger.debug({ transport: this.label, unitId, fc }, 'stale frame from an earlier request dropped');
      this.rx = this.rx.subarray(length);
    }
  }

  /** Ends `req` with `err` once the line has been quiet for `silenceMs` (at most its timeoutMs later). */
  private failAfterSilence(req: InFlight, err: Error): void {
    if (this.inFlight !== req) return;
    this.inFlight = null;
    if (req.timer !== null) clearTimeout(req.timer);
    const failedAtMs = performance.now();
    const deadlineMs = failedAtMs + req.timeoutMs;
    const check = (): void => {
      const nowMs = performance.now();
      const quietSinceMs = Math.max(this.lastRxAtMs, failedAtMs);
      const waitMs = quietSinceMs + this.silenceMs - nowMs;
      if (waitMs <= 0 || nowMs >= deadlineMs || this.conn === null) {
        this.rx = Buffer.alloc(0);
        req.reject(err);
        return;
      }
      setTimeout(check, Math.min(waitMs, deadlineMs - nowMs));
    };
    check();
  }

  /**
   * The port failed (write error, read error, hang-up): fail the request in flight, close the port
   * and tell the bus, once. A serial port that failed a write stays "open" otherwise.
   */
  private lose(conn: Connection, failure: { code: TransportErrorCode; detail: string; cause: unknown }): void {
    const make = (ctx: RequestContext): TransportError => new TransportError(failure.code, failure.detail, ctx, { cause: failure.cause });
    if (this.conn === conn) {
      this.conn = null;
      this.failInFlight(make);
    }
    if (conn.port.isOpen) conn.port.close(() => conn.markClosed());
    if (conn.lost || conn.closing) return;
    conn.lost = true;
    conn.onLost(make(conn.openContext));
  }

  private failInFlight(makeError: (ctx: RequestContext) => Error): void {
    const req = this.inFlight;
    if (req === null) return;
    this.inFlight = null;
    if (req.timer !== null) clearTimeout(req.timer);
    req.reject(makeError(req.context));
  }
}

/** Length of a response frame of another request, from its header; RTU frames carry no length field. */
function foreignFrameLength(rx: Buffer): number | 'need-more' | 'unknown' {
  const fc = rx[1] ?? 0;
  if (fc & 0x80) return 5; // unit, fc, exception code, CRC
  if (fc >= 1 && fc <= 4) {
    const byteCount = rx[2];
    return byteCount === undefined ? 'need-more' : 3 + byteCount + 2;
  }
  if (fc === 5 || fc === 6 || fc === 15 || fc === 16) return 8; // unit, fc, address, value/quantity, CRC
  return 'unknown';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
