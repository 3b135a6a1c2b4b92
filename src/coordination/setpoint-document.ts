// The held setpoint document (CONTRACT.md section 7), `setpoints/<device>.<point>`:
//   {"device","point","value","command":"cmd-N","token","setAt","holdUntil","agentId","issuedBy"}
// `agentId` and `issuedBy` (who applied it, who asked for it) are additions the contract allows: a
// reader that knows only the contract's keys ignores them. Anything may sit in ZooKeeper, so a
// document is parsed, never cast: a bad one is reported with the reason.
import { parseObject } from './documents.js';

export interface SetpointDocument {
  device: string;
  point: string;
  /** The held value, as the command gave it. */
  value: unknown;
  /** The command's znode name, `cmd-0000000042`. */
  command: string;
  /** The fencing token of the holder that applied it. */
  token: string;
  /** When it was applied, ISO 8601 by ZooKeeper's clock. */
  setAt: string;
  /** When it is released by itself (the command's ctime + holdMs, ZooKeeper's clock); null: held until replaced or released. */
  holdUntil: string | null;
  /** The agent that applied it. */
  agentId?: string;
  /** The command's issuedBy, null when it named none. */
  issuedBy?: string | null;
}

export type ParsedSetpoint = { ok: true; setpoint: SetpointDocument } | { ok: false; reason: string };

export function parseSetpoint(data: Buffer): ParsedSetpoint {
  const doc = parseObject(data);
  if (doc === null) return { ok: false, reason: 'not a JSON object' };
  const { device, point, value, command, token, setAt, holdUntil, agentId, issuedBy } = doc;
  for (const [key, v] of [['device', device], ['point', point], ['command', command], ['token', token], ['setAt', setAt]] as const) {
    if (typeof v !== 'string' || v === '') return { ok: false, reason: `${key}: expected a non-empty string, got ${JSON.stringify(v)}` };
  }
  if (value === undefined || value === null) return { ok: false, reason: 'value: missing' };
  if (!(holdUntil === null || (typeof holdUntil === 'string' && Number.isFinite(Date.parse(holdUntil))))) {
    return { ok: false, reason: `holdUntil: expected an ISO time or null, got ${JSON.stringify(holdUntil)}` };
  }
  const setpoint: SetpointDocument = {
    device: String(device),
    point: String(point),
    value,
    command: String(command),
    token: String(token),
    setAt: String(setAt),
    holdUntil,
  };
  if (typeof agentId === 'string') setpoint.agentId = agentId;
  if (typeof issuedBy === 'string' || issuedBy === null) setpoint.issuedBy = issuedBy;
  return { ok: true, setpoint };
}

/** holdUntil as ms since the epoch; null when the setpoint is held until replaced or released. */
export function holdUntilMs(s: Pick<SetpointDocument, 'holdUntil'>): number | null {
  return s.holdUntil === null ? null : Date.parse(s.holdUntil);
}
