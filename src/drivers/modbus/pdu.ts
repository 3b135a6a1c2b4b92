// Modbus application layer (PDU) of the client side: building requests and checking responses.
// Pure: no I/O. The transports wrap a PDU in an MBAP header (TCP) or unit id + CRC (RTU).
// Function codes and limits: Modbus Application Protocol Specification v1.1b3, section 6.
import type { Table } from '../../config/types.js';

/** The requests gridkeeper sends: reads of the four tables, single coil, single and multiple registers. */
export type ModbusRequest =
  | { fc: 1 | 2 | 3 | 4; address: number; count: number }
  | { fc: 5; address: number; value: boolean }
  | { fc: 6; address: number; value: number }
  | { fc: 16; address: number; values: readonly number[] };

/** What a response PDU says about its request. */
export type ResponseOutcome =
  | { kind: 'data'; values: number[] } // registers, or 0/1 per bit; [] for writes
  | { kind: 'exception'; exceptionCode: number }
  | { kind: 'invalid'; detail: string };

/** Per-request quantity limits of the protocol. */
export const MAX_READ_BITS = 2000;
export const MAX_READ_REGISTERS = 125;
export const MAX_WRITE_REGISTERS = 123;

export const READ_FUNCTION: Readonly<Record<Table, 1 | 2 | 3 | 4>> = {
  coil: 1,
  discrete: 2,
  holding: 3,
  input: 4,
};

/** The request PDU (function code and data). Throws RangeError for a request the protocol cannot carry. */
export function encodeRequest(req: ModbusRequest): Buffer {
  checkAddress(req.address);
  switch (req.fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      const max = req.fc <= 2 ? MAX_READ_BITS : MAX_READ_REGISTERS;
      checkQuantity(req.count, max, req.address, `function ${req.fc}`);
      return pdu(req.fc, [req.address, req.count]);
    }
    case 5:
      return pdu(5, [req.address, req.value ? 0xff00 : 0x0000]);
    case 6:
      checkRegister(req.value);
      return pdu(6, [req.address, req.value]);
    case 16: {
      checkQuantity(req.values.length, MAX_WRITE_REGISTERS, req.address, 'function 16');
      req.values.forEach(checkRegister);
      const out = Buffer.alloc(6 + 2 * req.values.length);
      out.writeUInt8(16, 0);
      out.writeUInt16BE(req.address, 1);
      out.writeUInt16BE(req.values.length, 3);
      out.writeUInt8(2 * req.values.length, 5);
      req.values.forEach((v, i) => out.writeUInt16BE(v, 6 + 2 * i));
      return out;
    }
  }
}

/** Length in bytes of the normal (non-exception) response PDU to `req`. An exception PDU is 2 bytes. */
export function expectedResponseLength(req: ModbusRequest): number {
  switch (req.fc) {
    case 1:
    case 2:
      return 2 + Math.ceil(req.count / 8);
    case 3:
    case 4:
      return 2 + 2 * req.count;
    case 5:
    case 6:
    case 16:
      return 5;
  }
}

/** Checks a response PDU against its request: function code, lengths, echoed address and values. */
export function parseResponse(req: ModbusRequest, res: Uint8Array): ResponseOutcome {
  const fc = res[0];
  if (fc === undefined) return invalid('empty response');
  if (fc === (req.fc | 0x80)) {
    const code = res[1];
    if (res.length !== 2 || code === undefined) return invalid(`exception response of ${res.length} bytes, expected 2`);
    return { kind: 'exception', exceptionCode: code };
  }
  if (fc !== req.fc) return invalid(`function code ${fc}, expected ${req.fc}`);
  const expected = expectedResponseLength(req);
  if (res.length !== expected) return invalid(`${res.length} bytes, expected ${expected}`);
  const view = Buffer.from(res.buffer, res.byteOffset, res.byteLength);
  switch (req.fc) {
    case 1:
    case 2: {
      const byteCount = view.readUInt8(1);
      if (byteCount !== expected - 2) return invalid(`byte count ${byteCount}, expected ${expected - 2}`);
      const bits: number[] = [];
      for (let i = 0; i < req.count; i++) bits.push(((view[2 + (i >> 3)] ?? 0) >> (i & 7)) & 1);
      return { kind: 'data', values: bits };
    }
    case 3:
    case 4: {
      const byteCount = view.readUInt8(1);
      if (byteCount !== 2 * req.count) return invalid(`byte count ${byteCount}, expected ${2 * req.count}`);
      const regs: number[] = [];
      for (let i = 0; i < req.count; i++) regs.push(view.readUInt16BE(2 + 2 * i));
      return { kind: 'data', values: regs };
    }
    case 5:
      return checkEcho(view, req.address, req.value ? 0xff00 : 0x0000, 'value');
    case 6:
      return checkEcho(view, req.address, req.value, 'value');
    case 16:
      return checkEcho(view, req.address, req.values.length, 'quantity');
  }
}

function checkEcho(view: Buffer, address: number, second: number, what: string): ResponseOutcome {
  const echoedAddress = view.readUInt16BE(1);
  if (echoedAddress !== address) return invalid(`echoed address ${echoedAddress}, expected ${address}`);
  const echoed = view.readUInt16BE(3);
  if (echoed !== second) return invalid(`echoed ${what} ${echoed}, expected ${second}`);
  return { kind: 'data', values: [] };
}

function pdu(fc: number, words: number[]): Buffer {
  // From Node's shared pool (every byte is written below): an ArrayBuffer of its own for every
  // request of every poll is what Buffer.alloc would cost.
  const out = Buffer.allocUnsafe(1 + 2 * words.length);
  out.writeUInt8(fc, 0);
  words.forEach((w, i) => out.writeUInt16BE(w, 1 + 2 * i));
  return out;
}

function invalid(detail: string): ResponseOutcome {
  return { kind: 'invalid', detail };
}

function checkAddress(address: number): void {
  if (!Number.isInteger(address) || address < 0 || address > 0xffff) {
    throw new RangeError(`Modbus address must be 0..65535, got ${address}`);
  }
}

function checkQuantity(count: number, max: number, address: number, what: string): void {
  if (!Number.isInteger(count) || count < 1 || count > max) {
    throw new RangeError(`${what}: quantity must be 1..${max}, got ${count}`);
  }
  if (address + count > 0x10000) {
    throw new RangeError(`${what}: ${count} items from address ${address} run past 65535`);
  }
}

function checkRegister(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`register value must be 0..65535, got ${value}`);
  }
}
