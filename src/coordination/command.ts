// Command and result documents (CONTRACT.md section 3) and the handler the agent gives us.
// Coordination knows nothing of devices: `CommandHandler.check` decides whether a command names a
// writable point with a value of the right type and range; `apply` writes it through the gate.

/** The longest a command may hold its point (`holdMs`): 30 days. */
export const MAX_HOLD_MS = 30 * 24 * 3_600_000;

/** A submitted command, as parsed from `commands/cmd-N`. */
export interface Command {
  device: string;
  point: string;
  /** null releases the point's held setpoint (CONTRACT.md section 7). */
  value: unknown;
  issuedBy?: string;
  /** Overrides control.commandTtlMs for this command. */
  ttlMs?: number;
  /** The setpoint is released this long after the command's znode was created (ZooKeeper's clock). */
  holdMs?: number;
}

export interface CommandHandler {
  /** null when the command may be applied; otherwise the reason it is rejected. Never touches a device. */
  check(cmd: Command): string | null;
  /**
   * Write the value; a null value writes the point's fallback (a release). `guard()` must be called
   * right before the bytes go out and aborts the write when false. Also how a lock holder
   * re-asserts a held setpoint: an absolute value applied again.
   */
  apply(cmd: Command, guard: () => boolean): Promise<{ readBack: unknown }>; // throws => status failed
  /** Whether an applied command on this point becomes a held setpoint (the point has a fallback). Absent: never. */
  holds?(cmd: Pick<Command, 'device' | 'point'>): boolean;
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
  // null is a value: the release of a held setpoint (CONTRACT.md section 7); absent is not.
  if (!('value' in raw) || raw.value === undefined) return { ok: false, reason: 'value: missing', raw };
  if (raw.issuedBy !== undefined && typeof raw.issuedBy !== 'string') return { ok: false, reason: 'issuedBy: must be a string', raw };
  if (raw.ttlMs !== undefined && !(typeof raw.ttlMs === 'number' && Number.isInteger(raw.ttlMs) && raw.ttlMs > 0)) {
    return { ok: false, reason: 'ttlMs: must be a positive integer (ms)', raw };
  }
  if (raw.holdMs !== undefined) {
    if (!(typeof raw.holdMs === 'number' && Number.isInteger(raw.holdMs) && raw.holdMs > 0 && raw.holdMs <= MAX_HOLD_MS)) {
      return { ok: false, reason: `holdMs: must be a positive integer of at most ${MAX_HOLD_MS} (ms, 30 days), got ${JSON.stringify(raw.holdMs)}`, raw };
    }
    if (raw.value === null) return { ok: false, reason: 'holdMs: a release (value null) holds nothing', raw };
  }
  const command: Command = { device: raw.device, point: raw.point, value: raw.value };
  if (typeof raw.issuedBy === 'string') command.issuedBy = raw.issuedBy;
  if (typeof raw.ttlMs === 'number') command.ttlMs = raw.ttlMs;
  if (typeof raw.holdMs === 'number') command.holdMs = raw.holdMs;
  return { ok: true, command, raw };
}
