import type { Table } from '../config/types.js';

/** One write request a simulated device received (whether or not it took effect). */
export interface WriteRecord {
  /** When it arrived: `performance.timeOrigin + performance.now()`, ms since the epoch (sub-ms). */
  atMs: number;
  device: string;
  /** Unit id the request was addressed to (0 = RTU broadcast). */
  unitId: number;
  /** Modbus function code: 5, 6, 15 or 16. */
  fc: number;
  table: Table;
  address: number;
  /** Registers (FC 6, 16) or 0/1 per coil (FC 5, 15). */
  values: number[];
  /** `address:port` of the TCP client, or the serial path for RTU. */
  peer: string;
  /** applied: stored; exception: refused with `exceptionCode`; ignored: swallowed (noAnswer fault). */
  outcome: 'applied' | 'exception' | 'ignored';
  exceptionCode: number | null;
}
