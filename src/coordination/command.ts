// Command and result documents (CONTRACT.md section 3) and the handler the agent gives us.
// Coordination knows nothing of devices: `CommandHandler.check` decides whether a command names a
// writable point with a value of the right type and range; `apply` writes it through the gate.

/** A submitted command, as parsed from `commands/cmd-N`. */
export interface Command {
  device: string;
  point: string;
  value: unknown;
  issuedBy?: string;
  /** Overrides control.commandTtlMs for this command. */
  ttlMs?: number;
}

export interface CommandHandler {
  /** null when the command may be applied; otherwise the reason it is rejected. Never touches a device. */
  check(cmd: Command): string | null;
  /** Write the value. `guard()` must be called right before the bytes go out and aborts the write when false. */
  apply(cmd: Command, guard: () => boolean): Promise<{ readBack: unknown }>; // throws => status failed
}

export type CommandStatus = 'applied' | 'rejected' | 'failed' | 'expired';
export const COMMAND_STATUSES: readonly CommandStatus[] = ['applied', 'rejected', 'failed', 'expired'];

export interface ResultDocument {
  /** The parsed command, or its raw text when it was not a valid command document. */
  command: Record<string, unknown> | string;
  status: CommandStatus;
  agentId: string;
  /** `lock-0000000007`: the holder's lock node. */
  lock: string;
  /** czxid of the holder's lock node, decimal. */
  token: string;
  startedAt: string;
  finishedAt: string;
  readBack: unknown;
  error: string | null;
}

export type ParsedCommand =
  | { ok: true; command: Command; raw: Record<string, unknown> }
  | { ok: false; reason: string; raw: Record<string, unknown> | string };

/** Parses a command znode's bytes. Checks the document's shape only; the handler checks the rest. */
export function parseCommand(data: Buffer): ParsedCommand {
  const text = data.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `malformed JSON: ${err instanceof Error ? err.message : String(err)}`, raw: text };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return { ok: false, reason: 'malformed command: expected a JSON object', raw: text };
  }
  const raw = { ...doc } as Record<string, unknown>;
  if (typeof raw.device !== 'string' || raw.device === '') return { ok: false, reason: 'device: must be a non-empty string', raw };
  if (typeof raw.point !== 'string' || raw.point === '') return { ok: false, reason: 'point: must be a non-empty string', raw };
  if (!('value' in raw) || raw.value === null) return { ok: false, reason: 'value: missing', raw };
  if (raw.issuedBy !== undefined && typeof raw.issuedBy !== 'string') return { ok: false, reason: 'issuedBy: must be a string', raw };
  if (raw.ttlMs !== undefined && !(typeof raw.ttlMs === 'number' && Number.isInteger(raw.ttlMs) && raw.ttlMs > 0)) {
    return { ok: false, reason: 'ttlMs: must be a positive integer (ms)', raw };
  }
  const command: Command = { device: raw.device, point: raw.point, value: raw.value };
  if (typeof raw.issuedBy === 'string') command.issuedBy = raw.issuedBy;
  if (typeof raw.ttlMs === 'number') command.ttlMs = raw.ttlMs;
  return { ok: true, command, raw };
}
