// Typed errors of the Modbus side. Library errors (modbus-serial, serialport, sockets) become one of
// these at the boundary, so callers switch on `code` / `retryable` and on the class, never on text.
// Every message names what was asked of whom: bus, device, unit, function code, table, address.
import { GridkeeperError } from '../errors.js';
import type { PointValue, Table } from '../config/types.js';

/** What a request was about; carried by every driver error and printed in its message. */
export interface RequestContext {
  bus: string;
  device?: string;
  unit: number;
  /** Modbus function code, e.g. 3 = read holding registers. */
  fc?: number;
  table?: Table;
  address?: number;
  count?: number;
}

/** `[bus=lan device=inv-1 unit=1 fc=3 table=holding address=40 count=10]`; absent fields are left out. */
export function formatContext(ctx: RequestContext): string {
  const parts = [`bus=${ctx.bus}`];
  if (ctx.device !== undefined) parts.push(`device=${ctx.device}`);
  parts.push(`unit=${ctx.unit}`);
  if (ctx.fc !== undefined) parts.push(`fc=${ctx.fc}`);
  if (ctx.table !== undefined) parts.push(`table=${ctx.table}`);
  if (ctx.address !== undefined) parts.push(`address=${ctx.address}`);
  if (ctx.count !== undefined) parts.push(`count=${ctx.count}`);
  return `[${parts.join(' ')}]`;
}

/** Modbus exception codes (Modbus Application Protocol v1.1b3, section 7). */
export const MODBUS_EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server busy',
  7: 'negative acknowledge',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target failed to respond',
};

/** Exceptions after which the same request may well succeed later (busy, still working, gateway). */
const RETRYABLE_EXCEPTIONS: ReadonlySet<number> = new Set([5, 6, 10, 11]);

export function modbusExceptionName(exceptionCode: number): string {
  return MODBUS_EXCEPTION_NAMES[exceptionCode] ?? `unknown exception ${exceptionCode}`;
}

/** The device answered with a Modbus exception response. */
export class ModbusExceptionError extends GridkeeperError {
  readonly code = 'MODBUS_EXCEPTION';
  readonly retryable: boolean;
  readonly exceptionCode: number;
  readonly exceptionName: string;
  readonly context: RequestContext;

  constructor(exceptionCode: number, context: RequestContext, options?: { cause?: unknown }) {
    const name = modbusExceptionName(exceptionCode);
    super(`Modbus exception ${exceptionCode} (${name}) ${formatContext(context)}`, options);
    this.exceptionCode = exceptionCode;
    this.exceptionName = name;
    this.retryable = RETRYABLE_EXCEPTIONS.has(exceptionCode);
    this.context = context;
  }
}

/** No (complete) answer within the bus's `timeoutMs`. */
export class TimeoutError extends GridkeeperError {
  readonly code = 'TIMEOUT';
  readonly retryable = true;
  readonly timeoutMs: number;
  readonly context: RequestContext;

  constructor(timeoutMs: number, context: RequestContext, options?: { cause?: unknown }) {
    super(`Timeout after ${timeoutMs}ms ${formatContext(context)}`, options);
    this.timeoutMs = timeoutMs;
    this.context = context;
  }
}

/** Why the connection to the bus could not carry the request. */
export type TransportErrorCode =
  | 'CONNECTION_REFUSED' // TCP connect refused (nothing listening)
  | 'CONNECTION_CLOSED' // the peer or the port closed while idle or mid-request
  | 'PORT_NOT_OPEN' // the bus is not connected (yet / any more)
  | 'TRANSPORT_FAILED'; // any other socket / serial port failure (EHOSTUNREACH, EIO, ...)

/** The bus connection failed: a retry after reconnecting can help. */
export class TransportError extends GridkeeperError {
  readonly code: TransportErrorCode;
  readonly retryable = true;
  readonly context: RequestContext;

  /** `detail` says what happened in words, e.g. `connect ECONNREFUSED 127.0.0.1:5020`. */
  constructor(code: TransportErrorCode, detail: string, context: RequestContext, options?: { cause?: unknown }) {
    super(`${TRANSPORT_TEXT[code]}: ${detail} ${formatContext(context)}`, options);
    this.code = code;
    this.context = context;
  }
}

const TRANSPORT_TEXT: Record<TransportErrorCode, string> = {
  CONNECTION_REFUSED: 'Connection refused',
  CONNECTION_CLOSED: 'Connection closed',
  PORT_NOT_OPEN: 'Port not open',
  TRANSPORT_FAILED: 'Transport failed',
};

/** The device answered, but the answer is unusable: garbage, short, wrong length, wrong CRC/transaction id. */
export class BadResponseError extends GridkeeperError {
  readonly code = 'BAD_RESPONSE';
  readonly retryable = true;
  readonly context: RequestContext;

  constructor(detail: string, context: RequestContext, options?: { cause?: unknown }) {
    super(`Bad response: ${detail} ${formatContext(context)}`, options);
    this.context = context;
  }
}

export type CodecErrorCode =
  | 'VALUE_OUT_OF_RANGE' // the engineering value maps to a raw value the raw type cannot hold
  | 'WRONG_TYPE' // e.g. a string for a numeric point, NaN, Infinity
  | 'BAD_RESPONSE' // registers handed to the decoder do not fit the point (too few, not 16-bit)
  | 'POINT_INVALID' // a point definition the codec cannot handle (config checks normally catch it)
  | 'CURRENT_REGISTER_REQUIRED'; // a `bit` point is written read-modify-write: the register is needed

/** A value could not be converted between engineering units and registers. Retrying cannot help. */
export class CodecError extends GridkeeperError {
  readonly code: CodecErrorCode;
  readonly retryable = false;
  /** Name of the point being converted. */
  readonly point: string;

  constructor(code: CodecErrorCode, point: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.point = point;
  }
}

/** A write went through but reading the point back gave another value. */
export class ReadBackMismatchError extends GridkeeperError {
  readonly code = 'READ_BACK_MISMATCH';
  readonly retryable = false;
  readonly point: string;
  readonly expected: PointValue;
  readonly actual: PointValue;
  readonly context: RequestContext;

  constructor(point: string, expected: PointValue, actual: PointValue, context: RequestContext, options?: { cause?: unknown }) {
    super(
      `Read-back mismatch on point ${point}: wrote ${JSON.stringify(expected)}, read back ${JSON.stringify(actual)} ${formatContext(context)}`,
      options,
    );
    this.point = point;
    this.expected = expected;
    this.actual = actual;
    this.context = context;
  }
}

/** A write was refused before anything went on the wire: the actuation gate was closed (no lock / lease). */
export class GateClosedError extends GridkeeperError {
  readonly code = 'GATE_CLOSED';
  readonly retryable = false;
  readonly point: string | undefined;
  readonly context: RequestContext;

  constructor(context: RequestContext, point?: string) {
    const what = point === undefined ? 'write' : `write of point ${point}`;
    super(`Actuation gate closed: ${what} not sent ${formatContext(context)}`);
    this.point = point;
    this.context = context;
  }
}

/** Every error the drivers raise. */
export type DriverError =
  | ModbusExceptionError
  | TimeoutError
  | TransportError
  | BadResponseError
  | CodecError
  | ReadBackMismatchError
  | GateClosedError;

export function isDriverError(err: unknown): err is DriverError {
  return (
    err instanceof ModbusExceptionError ||
    err instanceof TimeoutError ||
    err instanceof TransportError ||
    err instanceof BadResponseError ||
    err instanceof CodecError ||
    err instanceof ReadBackMismatchError ||
    err instanceof GateClosedError
  );
}
