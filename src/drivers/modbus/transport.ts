// The link under a bus: one TCP connection or one serial port. A transport carries one request at a
// time (the bus serialises them) and turns whatever goes wrong into a typed error naming the request.
import { TransportError, type RequestContext, type TransportErrorCode } from '../errors.js';

export interface Exchange {
  unitId: number;
  /** Request PDU: function code and data. */
  pdu: Buffer;
  /** Length of the normal response PDU (an exception response is 2 bytes). */
  expectedLength: number;
  timeoutMs: number;
  context: RequestContext;
}

export interface Transport {
  /** For logs: `tcp 192.168.1.50:502` or `rtu /dev/ttyUSB0`. */
  readonly label: string;
  /**
   * Opens one connection. `onLost` is called at most once, when that connection goes down by any
   * cause other than close(). Rejects with TransportError.
   */
  open(context: RequestContext, onLost: (err: TransportError) => void): Promise<void>;
  /**
   * Sends one request and resolves with the response PDU whose unit id (and, on TCP, transaction
   * id) matched. Rejects with TimeoutError, TransportError or BadResponseError. Returns only when
   * the link is ready for the next request (on RTU: the line has gone quiet after a failure).
   */
  exchange(x: Exchange): Promise<Buffer>;
  /** Closes the connection; a request in flight fails with TransportError CONNECTION_CLOSED. */
  close(): Promise<void>;
}

/** What kind of transport failure a socket / serial port error is, and its words. */
export function describeTransportFailure(err: unknown, fallback: TransportErrorCode = 'TRANSPORT_FAILED'): { code: TransportErrorCode; detail: string } {
  const errno = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const code: TransportErrorCode =
    errno === 'ECONNREFUSED' ? 'CONNECTION_REFUSED' : errno === 'ECONNRESET' || errno === 'EPIPE' ? 'CONNECTION_CLOSED' : fallback;
  return { code, detail: err instanceof Error ? err.message : String(err) };
}

/** A socket / serial port error as a TransportError for the request (or connect) at hand. */
export function transportErrorFrom(err: unknown, context: RequestContext, fallback: TransportErrorCode = 'TRANSPORT_FAILED'): TransportError {
  if (err instanceof TransportError) return err;
  const { code, detail } = describeTransportFailure(err, fallback);
  return new TransportError(code, detail, context, { cause: err });
}
