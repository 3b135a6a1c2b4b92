// Misbehaviour a simulated device can be told to show, per device (unit), changeable while running.
import type { Table } from '../config/types.js';

/** Answer requests matching all given fields with exception `code` instead of serving them. */
export interface ExceptionFault {
  /** Modbus exception code, e.g. 2 illegal data address, 4 server device failure, 6 busy. */
  code: number;
  /** Only requests with this function code. */
  fc?: number;
  /** Only requests on this table. */
  table?: Table;
  /** Only requests whose address range overlaps [from, to] (0-based, inclusive). */
  from?: number;
  to?: number;
}

export interface Faults {
  /** Swallow every request: no answer at all (a write is not applied either). */
  noAnswer: boolean;
  /** Answer this many milliseconds late (the request takes effect at once, only the answer waits). */
  delayMs: number;
  /** Answer matching requests with an exception (see ExceptionFault); null = off. */
  exception: ExceptionFault | null;
  /** TCP: while set, every request to this unit destroys its connection instead of being served. RTU: no effect. */
  dropConnection: boolean;
  /** RTU: flip a byte of the CRC of every answer. TCP: every answer is sent as garbage (all bytes XOR 0xA5). */
  corruptFrames: boolean;
  /** TCP: answer with the transaction id plus one. RTU: no effect. */
  wrongTransactionId: boolean;
  /** Reads touching any register/bit that no point covers answer exception 2 (default: only outside the span of the points). */
  strictGaps: boolean;
  /** Every address of every table is readable (zeros where no point is); overrides strictGaps. */
  lenient: boolean;
}

export function noFaults(): Faults {
  return {
    noAnswer: false,
    delayMs: 0,
    exception: null,
    dropConnection: false,
    corruptFrames: false,
    wrongTransactionId: false,
    strictGaps: false,
    lenient: false,
  };
}

/** Does the exception fault apply to a request (fc, table, address range [address, address+count))? */
export function exceptionApplies(
  fault: ExceptionFault,
  fc: number,
  table: Table | undefined,
  address: number | undefined,
  count: number | undefined,
): boolean {
  if (fault.fc !== undefined && fault.fc !== fc) return false;
  if (fault.table !== undefined && fault.table !== table) return false;
  if (fault.from === undefined && fault.to === undefined) return true;
  if (address === undefined || count === undefined) return false;
  const from = fault.from ?? 0;
  const to = fault.to ?? 65535;
  return address <= to && address + count - 1 >= from;
}
