import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { isZkError } from '../coordination/errors.js';
import { SitePaths } from '../coordination/paths.js';
import type { ZkSession } from '../coordination/session.js';
import { ensurePath } from '../coordination/tree.js';
import { EXIT, UsageError, type CliIO } from './io.js';
import { parseObject } from './site-view.js';
import { intOption, openSession, SITE_OPTIONS, zkOptionsFrom } from './zk-connect.js';

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
  const command: Record<string, unknown> = {
    device: values.device,
    point: values.point,
    value: parseValue(values.value ?? ''),
    issuedBy: values['issued-by'] ?? defaultIssuer(),
  };
  if (ttlMs !== undefined) command.ttlMs = ttlMs;

  let session: ZkSession;
  try {
    session = await openSession(zk);
  } catch (err) {
    io.stderr(`gridkeeper command: ${message(err)}`);
    return EXIT.failure;
  }
  try {
    const paths = new SitePaths(values.root, values.site ?? '');
    const id = await submit(session, paths, command);
    const result = await waitForResult(session, paths.result(id), waitMs);
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
    await session.close();
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

async function submit(session: ZkSession, paths: SitePaths, command: Record<string, unknown>): Promise<string> {
  const data = Buffer.from(JSON.stringify(command));
  let created: string;
  try {
    created = await session.create(`${paths.commands}/cmd-`, data, 'persistent_sequential');
  } catch (err) {
    if (!isZkError(err, 'NONODE')) throw err;
    // No agent has made the site's tree yet: make commands/ so the command waits for one.
    await ensurePath(session, paths.commands, null);
    created = await session.create(`${paths.commands}/cmd-`, data, 'persistent_sequential');
  }
  return created.slice(created.lastIndexOf('/') + 1);
}

/** The result document, or null when none appeared within `waitMs`. */
async function waitForResult(session: ZkSession, path: string, waitMs: number): Promise<Record<string, unknown> | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const changed = new Promise<void>((resolve) => {
      void session.exists(path, () => resolve()).then(
        (stat) => stat && resolve(),
        () => resolve(),
      );
    });
    const left = deadline - Date.now();
    if (left <= 0) return read();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([changed, new Promise<void>((r) => (timer = setTimeout(r, Math.min(left, 1000))))]);
    clearTimeout(timer);
    const result = await read();
    if (result) return result;
  }

  async function read(): Promise<Record<string, unknown> | null> {
    try {
      const node = await session.get(path);
      return parseObject(node.data) ?? { status: 'failed', error: `result at ${path} is not a JSON object` };
    } catch (err) {
      if (isZkError(err, 'NONODE', 'CONNECTIONLOSS')) return null;
      throw err;
    }
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
