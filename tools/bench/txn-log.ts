// ZooKeeper's own record of what was written: the transaction log (dataDir/version-2/log.<zxid>)
// that every server appends each committed transaction to. Parsed here so that the fleet bench can
// count, per site, the transactions and the bytes the ensemble persisted, exactly: every server
// writes each of them to its disk (and the leader sends each to every follower).
//
// Format (FileTxnLog): a 16-byte header ("ZKLG", version, dbid), then per entry a checksum (8 bytes),
// the entry's length (4), the entry (TxnHeader: clientId 8, cxid 4, zxid 8, time 8, type 4; then the
// record, whose first field is the znode path for the path operations), and an end-of-record byte.
// The file is preallocated with zeros: a length of 0 ends it.
import fs from 'node:fs';
import path from 'node:path';

export interface Txn {
  /** Session that asked for it. */
  clientId: bigint;
  zxid: bigint;
  /** The leader's clock, ms since the epoch. */
  timeMs: number;
  /** ZooKeeper's OpCode: 1 create, 2 delete, 5 setData, 7 setACL, 14 multi, 15 create2, -10 createSession, -11 closeSession, -1 error, ... */
  type: number;
  /** Paths the transaction touched (several for a multi); none for session and error transactions. */
  paths: string[];
  /** Bytes this transaction takes in the log: checksum, length, entry and end-of-record byte. */
  bytes: number;
}

export const TXN_TYPE = { create: 1, delete: 2, setData: 5, setACL: 7, multi: 14, createSession: -10, closeSession: -11, error: -1 } as const;

/** Types whose record starts with the znode path: create, delete, setData, setACL, check, create2, createContainer, deleteContainer, createTTL. */
const PATH_FIRST = new Set([1, 2, 5, 7, 13, 15, 19, 20, 21]);
const FILE_HEADER_BYTES = 16;
const HEADER_BYTES = 32;

/** Every transaction in the logs of `dataDir` (a server's dataDir), oldest first. */
export function readTxnLogs(dataDir: string): Txn[] {
  const dir = path.join(dataDir, 'version-2');
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.startsWith('log.'));
  } catch {
    return [];
  }
  files.sort((a, b) => (BigInt(`0x${a.slice(4)}`) < BigInt(`0x${b.slice(4)}`) ? -1 : 1));
  return files.flatMap((f) => parseTxnLog(fs.readFileSync(path.join(dir, f))));
}

export function parseTxnLog(buf: Buffer): Txn[] {
  const out: Txn[] = [];
  if (buf.length < FILE_HEADER_BYTES || buf.toString('latin1', 0, 4) !== 'ZKLG') return out;
  let at = FILE_HEADER_BYTES;
  while (at + 12 <= buf.length) {
    const len = buf.readInt32BE(at + 8);
    if (len <= 0 || at + 12 + len + 1 > buf.length) break; // preallocated zeros, or an entry still being written
    const entry = buf.subarray(at + 12, at + 12 + len);
    if (entry.length >= HEADER_BYTES) {
      const type = entry.readInt32BE(28);
      out.push({
        clientId: entry.readBigInt64BE(0),
        zxid: entry.readBigInt64BE(12),
        timeMs: Number(entry.readBigInt64BE(20)),
        type,
        paths: recordPaths(type, entry.subarray(HEADER_BYTES)),
        bytes: 12 + len + 1,
      });
    }
    at += 12 + len + 1;
  }
  return out;
}

function recordPaths(type: number, record: Buffer): string[] {
  if (PATH_FIRST.has(type)) {
    const p = readString(record, 0);
    return p === null ? [] : [p];
  }
  if (type !== TXN_TYPE.multi || record.length < 4) return [];
  // MultiTxn: a vector of Txn { int type; buffer data }.
  const count = record.readInt32BE(0);
  const paths: string[] = [];
  let at = 4;
  for (let i = 0; i < count && at + 8 <= record.length; i++) {
    const sub = record.readInt32BE(at);
    const len = record.readInt32BE(at + 4);
    const data = record.subarray(at + 8, at + 8 + Math.max(0, len));
    if (PATH_FIRST.has(sub)) {
      const p = readString(data, 0);
      if (p !== null) paths.push(p);
    }
    at += 8 + Math.max(0, len);
  }
  return paths;
}

/** A jute string: int length, then UTF-8. */
function readString(buf: Buffer, at: number): string | null {
  if (at + 4 > buf.length) return null;
  const len = buf.readInt32BE(at);
  if (len < 0 || at + 4 + len > buf.length) return null;
  return buf.toString('utf8', at + 4, at + 4 + len);
}
