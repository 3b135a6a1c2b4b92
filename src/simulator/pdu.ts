// Modbus PDUs (function code + data), the part shared by TCP and RTU: parsing requests of function
// codes 1, 2, 3, 4, 5, 6, 15, 16 with the checks of the Modbus Application Protocol v1.1b3 (quantity
// first: exception 3; then address range: exception 2), and building the answers.
import type { Table } from '../config/types.js';

export const EXCEPTION = {
  illegalFunction: 1,
  illegalDataAddress: 2,
  illegalDataValue: 3,
  serverDeviceFailure: 4,
  gatewayTargetFailed: 11,
} as const;

export type ReadFc = 1 | 2 | 3 | 4;
export type WriteFc = 5 | 6 | 15 | 16;

export interface ReadRequest {
  kind: 'read';
  fc: ReadFc;
  table: Table;
  address: number;
  count: number;
}

export interface WriteRequest {
  kind: 'write';
  fc: WriteFc;
  table: 'coil' | 'holding';
  address: number;
  /** Registers (FC 6, 16) or 0/1 per coil (FC 5, 15). */
  values: number[];
}

export type ModbusRequest = ReadRequest | WriteRequest;

export type ParseResult =
  | { ok: true; request: ModbusRequest }
  | { ok: false; fc: number; exceptionCode: number };

const READ_TABLE: Record<ReadFc, Table> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' };
/** Largest quantity per function code (spec: 2000 bits, 125 registers read, 1968 coils, 123 registers written). */
const MAX_QUANTITY: Record<ReadFc | 15 | 16, number> = { 1: 2000, 2: 2000, 3: 125, 4: 125, 15: 1968, 16: 123 };

/** True for the function codes that write (the simulator records those). */
export function isWriteFc(fc: number): fc is WriteFc {
  return fc === 5 || fc === 6 || fc === 15 || fc === 16;
}

/** Expected length of a complete request PDU with this function code, if the first bytes tell it; null = need more bytes; undefined = unknown function code. */
export function requestPduLength(pdu: Uint8Array): number | null | undefined {
  const fc = pdu[0];
  if (fc === undefined) return null;
  if (fc >= 1 && fc <= 6) return 5;
  if (fc === 15 || fc === 16) {
    const byteCount = pdu[5];
    return byteCount === undefined ? null : 6 + byteCount;
  }
  return undefined;
}

export function parseRequest(pdu: Uint8Array): ParseResult {
  const fc = pdu[0] ?? 0;
  const fail = (exceptionCode: number): ParseResult => ({ ok: false, fc, exceptionCode });
  const u16 = (offset: number): number => ((pdu[offset] ?? 0) << 8) | (pdu[offset + 1] ?? 0);

  switch (fc) {
    case 1:
    case 2:
    case 3:
    case 4: {
      if (pdu.length < 5) return fail(EXCEPTION.illegalDataValue);
      const address = u16(1);
      const count = u16(3);
      if (count < 1 || count > MAX_QUANTITY[fc]) return fail(EXCEPTION.illegalDataValue);
      if (address + count > 0x10000) return fail(EXCEPTION.illegalDataAddress);
      return { ok: true, request: { kind: 'read', fc, table: READ_TABLE[fc], address, count } };
    }
    case 5: {
      if (pdu.length < 5) return fail(EXCEPTION.illegalDataValue);
      const value = u16(3);
      if (value !== 0xff00 && value !== 0x0000) return fail(EXCEPTION.illegalDataValue);
      return { ok: true, request: { kind: 'write', fc, table: 'coil', address: u16(1), values: [value === 0xff00 ? 1 : 0] } };
    }
    case 6: {
      if (pdu.length < 5) return fail(EXCEPTION.illegalDataValue);
      return { ok: true, request: { kind: 'write', fc, table: 'holding', address: u16(1), values: [u16(3)] } };
    }
    case 15:
    case 16: {
      if (pdu.length < 6) return fail(EXCEPTION.illegalDataValue);
      const address = u16(1);
      const count = u16(3);
      const byteCount = pdu[5] ?? 0;
      const expectedBytes = fc === 15 ? Math.ceil(count / 8) : count * 2;
      if (count < 1 || count > MAX_QUANTITY[fc] || byteCount !== expectedBytes || pdu.length < 6 + byteCount) {
        return fail(EXCEPTION.illegalDataValue);
      }
      if (address + count > 0x10000) return fail(EXCEPTION.illegalDataAddress);
      const values = new Array<number>(count);
      for (let i = 0; i < count; i++) {
        values[i] = fc === 15 ? ((pdu[6 + (i >> 3)] ?? 0) >> (i & 7)) & 1 : u16(6 + 2 * i);
      }
      return { ok: true, request: { kind: 'write', fc, table: fc === 15 ? 'coil' : 'holding', address, values } };
    }
    default:
      return fail(EXCEPTION.illegalFunction);
  }
}

export function exceptionPdu(fc: number, exceptionCode: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, exceptionCode & 0xff]);
}

/** Answer to a read: registers big-endian, or bits packed least significant first. */
export function readResponsePdu(req: ReadRequest, values: readonly number[]): Buffer {
  if (req.fc === 1 || req.fc === 2) {
    const bytes = Math.ceil(values.length / 8);
    const out = Buffer.alloc(2 + bytes);
    out[0] = req.fc;
    out[1] = bytes;
    values.forEach((v, i) => {
      if (v) out[2 + (i >> 3)] = (out[2 + (i >> 3)] ?? 0) | (1 << (i & 7));
    });
    return out;
  }
  const out = Buffer.alloc(2 + 2 * values.length);
  out[0] = req.fc;
  out[1] = 2 * values.length;
  values.forEach((v, i) => out.writeUInt16BE(v & 0xffff, 2 + 2 * i));
  return out;
}

/** Answer to a write: FC 5/6 echo address and value, FC 15/16 give address and quantity. */
export function writeResponsePdu(req: WriteRequest): Buffer {
  const out = Buffer.alloc(5);
  out[0] = req.fc;
  out.writeUInt16BE(req.address, 1);
  if (req.fc === 5) out.writeUInt16BE(req.values[0] ? 0xff00 : 0x0000, 3);
  else if (req.fc === 6) out.writeUInt16BE(req.values[0] ?? 0, 3);
  else out.writeUInt16BE(req.values.length, 3);
  return out;
}
