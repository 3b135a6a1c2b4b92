// The driver error classes: code, retryable, context fields, and the request context in messages.
import { describe, expect, it } from 'vitest';
import { GridkeeperError } from '../../src/errors.js';
import {
  BadResponseError,
  CodecError,
  formatContext,
  GateClosedError,
  isDriverError,
  ModbusExceptionError,
  ReadBackMismatchError,
  TimeoutError,
  TransportError,
  type RequestContext,
} from '../../src/drivers/errors.js';

const ctx: RequestContext = { bus: 'lan', device: 'inv-1', unit: 1, fc: 3, address: 40, count: 10 };

describe('driver errors', () => {
  it('formats the request context, leaving out what is absent', () => {
    expect(formatContext(ctx)).toBe('[bus=lan device=inv-1 unit=1 fc=3 address=40 count=10]');
    expect(formatContext({ bus: 'rs485', unit: 7, table: 'coil', address: 0 })).toBe('[bus=rs485 unit=7 table=coil address=0]');
  });

  it('TimeoutError says what timed out', () => {
    const err = new TimeoutError(1000, ctx);
    expect(err.message).toBe('Timeout after 1000ms [bus=lan device=inv-1 unit=1 fc=3 address=40 count=10]');
    expect([err.code, err.retryable, err.timeoutMs, err.name]).toEqual(['TIMEOUT', true, 1000, 'TimeoutError']);
    expect(err).toBeInstanceOf(GridkeeperError);
    expect(err).toBeInstanceOf(Error);
  });

  it('ModbusExceptionError: name per exception code, retryable only for 5, 6, 10, 11', () => {
    const names: Record<number, string> = {
      1: 'illegal function',
      2: 'illegal data address',
      3: 'illegal data value',
      4: 'server device failure',
      5: 'acknowledge',
      6: 'server busy',
      10: 'gateway path unavailable',
      11: 'gateway target failed to respond',
    };
    for (const [code, name] of Object.entries(names)) {
      const err = new ModbusExceptionError(Number(code), ctx);
      expect(err.code).toBe('MODBUS_EXCEPTION');
      expect(err.exceptionCode).toBe(Number(code));
      expect(err.exceptionName).toBe(name);
      expect(err.retryable).toBe([5, 6, 10, 11].includes(Number(code)));
      expect(err.context).toEqual(ctx);
    }
    expect(new ModbusExceptionError(99, ctx).exceptionName).toBe('unknown exception 99');
  });

  it('the other classes carry their code, retryability and fields', () => {
    const transport = new TransportError('CONNECTION_REFUSED', 'connect ECONNREFUSED 127.0.0.1:5020', ctx);
    expect([transport.code, transport.retryable]).toEqual(['CONNECTION_REFUSED', true]);
    expect(new TransportError('PORT_NOT_OPEN', 'not connected', ctx).code).toBe('PORT_NOT_OPEN');
    const bad = new BadResponseError('byte count 4, expected 20', ctx);
    expect([bad.code, bad.retryable]).toEqual(['BAD_RESPONSE', true]);
    const codec = new CodecError('VALUE_OUT_OF_RANGE', 'activePowerLimit', 'too big');
    expect([codec.code, codec.retryable, codec.point]).toEqual(['VALUE_OUT_OF_RANGE', false, 'activePowerLimit']);
    const mismatch = new ReadBackMismatchError('activePowerLimit', 50, 49.9, ctx);
    expect([mismatch.code, mismatch.expected, mismatch.actual]).toEqual(['READ_BACK_MISMATCH', 50, 49.9]);
    const gate = new GateClosedError(ctx, 'activePowerLimit');
    expect([gate.code, gate.retryable, gate.point]).toEqual(['GATE_CLOSED', false, 'activePowerLimit']);
    for (const err of [transport, bad, codec, mismatch, gate]) expect(isDriverError(err)).toBe(true);
    expect(isDriverError(new Error('plain'))).toBe(false);
  });

  it('keeps the library error as cause', () => {
    const cause = new Error('ETIMEDOUT');
    expect(new TimeoutError(500, ctx, { cause }).cause).toBe(cause);
  });
});
