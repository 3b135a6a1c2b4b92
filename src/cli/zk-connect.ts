import { pino, type Logger } from 'pino';
import { systemClock } from '../coordination/clock.js';
import { ZkSession } from '../coordination/session.js';
import { UsageError, type CliIO } from './io.js';

/** Command-line options of the verbs that read or act on a site without its config file. */
export const SITE_OPTIONS = {
  zookeeper: { type: 'string' },
  site: { type: 'string' },
  root: { type: 'string', default: '/gridkeeper' },
  json: { type: 'boolean', default: false },
  'credentials-file': { type: 'string' },
} as const;

/** Options shared by the verbs that talk to ZooKeeper without a site config (status, command). */
export interface ZkCliOptions {
  connect: string;
  credentialsFile: string | undefined;
  connectTimeoutMs: number;
}

export function zkOptionsFrom(values: { zookeeper?: string; 'credentials-file'?: string }, io: CliIO): ZkCliOptions {
  const connect = values.zookeeper ?? io.env.GRIDKEEPER_ZOOKEEPER;
  if (connect === undefined || connect === '') {
    throw new UsageError('--zookeeper CONNECT is required (or set GRIDKEEPER_ZOOKEEPER)');
  }
  return {
    connect,
    credentialsFile: values['credentials-file'] ?? io.env.GRIDKEEPER_CREDENTIALS_FILE,
    connectTimeoutMs: 10_000,
  };
}

/** A session for a one-shot tool: logs only warnings and worse, to stderr. */
export async function openSession(opts: ZkCliOptions): Promise<ZkSession> {
  const logger: Logger = pino({ level: 'warn' }, pino.destination(2));
  const session = new ZkSession(
    { connect: opts.connect, sessionTimeoutMs: 10_000, nativeLogLevel: 0, ...(opts.credentialsFile ? { credentialsFile: opts.credentialsFile } : {}) },
    { logger, clock: systemClock },
  );
  session.start();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`could not connect to ZooKeeper at ${opts.connect} within ${opts.connectTimeoutMs} ms`)),
      opts.connectTimeoutMs,
    );
  });
  try {
    await Promise.race([session.whenConnected(), timeout]);
  } catch (err) {
    await session.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return session;
}

/** Positive integer option, or a UsageError naming it. */
export function intOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number of milliseconds, got '${text}'`);
  return n;
}
