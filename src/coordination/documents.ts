// Reading the JSON documents of the site tree (CONTRACT.md section 3) as an operator sees them.
// Anything may have written a znode, so nothing here trusts its bytes: a document that is not what
// the contract says is shown as it is (`objectOrText`) or reported with the reason (`parseResult`),
// never cast into shape.
import { COMMAND_STATUSES, type CommandStatus, type ResultDocument } from './command.js';

/** A JSON object, or null for anything else (bad data from ZooKeeper is shown, never fatal). */
export function parseObject(data: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(data.toString('utf8'));
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** The JSON object as written, or the raw text when it is no JSON object: for showing a document. */
export function objectOrText(data: Buffer): Record<string, unknown> | string {
  return parseObject(data) ?? data.toString('utf8');
}

export type ParsedResult = { ok: true; result: ResultDocument } | { ok: false; reason: string };

/**
 * A result document as the lock holder wrote it. The object keeps its keys in their order (and any
 * the contract does not name), so printing it shows what ZooKeeper holds.
 */
export function parseResult(data: Buffer): ParsedResult {
  const doc = parseObject(data);
  if (doc === null) return { ok: false, reason: 'not a JSON object' };
  const { command, status, agentId, lock, token, startedAt, finishedAt, error } = doc;
  if (!(typeof command === 'string' || isObject(command))) return { ok: false, reason: 'command: expected an object or the raw text' };
  if (!isStatus(status)) return { ok: false, reason: `status: expected one of ${COMMAND_STATUSES.join(', ')}, got ${JSON.stringify(status)}` };
  if (typeof agentId !== 'string') return notString('agentId', agentId);
  if (typeof lock !== 'string') return notString('lock', lock);
  if (typeof token !== 'string') return notString('token', token);
  if (typeof startedAt !== 'string') return notString('startedAt', startedAt);
  if (typeof finishedAt !== 'string') return notString('finishedAt', finishedAt);
  if (!(error === null || typeof error === 'string')) return { ok: false, reason: `error: expected a string or null, got ${JSON.stringify(error)}` };
  return { ok: true, result: { ...doc, command, status, agentId, lock, token, startedAt, finishedAt, readBack: doc.readBack ?? null, error } };
}

function notString(key: string, value: unknown): ParsedResult {
  return { ok: false, reason: `${key}: expected a string, got ${JSON.stringify(value)}` };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStatus(value: unknown): value is CommandStatus {
  return COMMAND_STATUSES.some((s) => s === value);
}
