import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { InvalidDocumentError } from '../coordination/errors.js';
import type { SiteClient } from '../coordination/site-client.js';
import { EXIT, UsageError, type CliIO } from './io.js';
import { intOption, openSiteClient, SITE_OPTIONS, zkOptionsFrom } from './zk-connect.js';

const DEFAULT_WAIT_MS = 10_000;

/**
 * Submits one command (CONTRACT.md section 3) and waits for its result. Exit 0 when `applied`,
 * 1 for `rejected`, `failed`, `expired` or no result in time. A command that got no result in time
 * stays queued: the lock holder will still handle it, or expire it once older than its TTL.
 */
export async function commandCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...SITE_OPTIONS,
      device: { type: 'string' },
      point: { type: 'string' },
      value: { type: 'string' },
      'ttl-ms': { type: 'string' },
      'hold-ms': { type: 'string' },
      'wait-ms': { type: 'string' },
      'issued-by': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  for (const name of ['site', 'device', 'point', 'value'] as const) {
    if (values[name] === undefined) throw new UsageError(`--${name} is required`);
  }
  const zk = zkOptionsFrom(values, io);
  const waitMs = intOption('wait-ms', values['wait-ms'], DEFAULT_WAIT_MS);
  const ttlMs = values['ttl-ms'] === undefined ? undefined : intOption('ttl-ms', values['ttl-ms'], 0);
  // A held setpoint ends this long after the command was submitted (CONTRACT.md section 7); `--value null` releases one.
  const holdMs = values['hold-ms'] === undefined ? undefined : intOption('hold-ms', values['hold-ms'], 0);
  const command: Record<string, unknown> = {
    device: values.device,
    point: values.point,
    value: parseValue(values.value ?? ''),
    issuedBy: values['issued-by'] ?? defaultIssuer(),
  };
  if (ttlMs !== undefined) command.ttlMs = ttlMs;
  if (holdMs !== undefined) command.holdMs = holdMs;

  let client: SiteClient;
  try {
    client = await openSiteClient(zk, values.root, values.site ?? '');
  } catch (err) {
    io.stderr(`gridkeeper command: ${message(err)}`);
    return EXIT.failure;
  }
  try {
    const id = await client.submit(command);
    const result = await awaitResult(client, id, waitMs);
    if (result === null) {
      const line = `${id}: no result within ${waitMs} ms; the command stays queued until the lock holder handles or expires it`;
      if (values.json) io.stdout(JSON.stringify({ id, command, status: null, error: line }));
      else io.stderr(`gridkeeper command: ${line}`);
      return EXIT.failure;
    }
    if (values.json) io.stdout(JSON.stringify({ id, ...result }));
    else io.stdout(describe(id, result));
    return result.status === 'applied' ? EXIT.ok : EXIT.failure;
  } catch (err) {
    io.stderr(`gridkeeper command: ${message(err)}`);
    return EXIT.failure;
  } finally {
    await client.close();
  }
}

/** `50` → 50, `true` → true, `"x"` → "x"; anything that is not JSON stays the text given. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The result as written, or null when none came within `waitMs`; one that is no result document counts as failed. */
async function awaitResult(client: SiteClient, id: string, waitMs: number): Promise<Record<string, unknown> | null> {
  try {
    const result = await client.awaitResult(id, waitMs);
    return result === null ? null : { ...result };
  } catch (err) {
    if (err instanceof InvalidDocumentError) return { status: 'failed', error: err.message };
    throw err;
  }
}

function describe(id: string, r: Record<string, unknown>): string {
  const c = (typeof r.command === 'object' && r.command !== null ? r.command : {}) as Record<string, unknown>;
  const what = `${String(c.device)}.${String(c.point)} = ${JSON.stringify(c.value)}`;
  const by = `by ${String(r.agentId)} (${String(r.lock)}, token ${String(r.token)})`;
  const took = typeof r.startedAt === 'string' && typeof r.finishedAt === 'string' ? ` in ${Date.parse(r.finishedAt) - Date.parse(r.startedAt)} ms` : '';
  switch (r.status) {
    case 'applied':
      return `${id} applied: ${what} ${by}${took}` + (r.readBack === null || r.readBack === undefined ? '' : `, read back ${JSON.stringify(r.readBack)}`);
    default:
      return `${id} ${String(r.status)}: ${what} ${by}: ${String(r.error)}`;
  }
}

function defaultIssuer(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (container): keep 'unknown'
  }
  return `gridkeeper-cli:${user}@${hostname()}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
