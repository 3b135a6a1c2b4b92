import { pino, type Logger } from 'pino';
import { systemClock } from '../clock.js';
import { DEFAULT_ROOT } from '../coordination/paths.js';
import { SiteClient } from '../coordination/site-client.js';
import { UsageError, type CliIO } from './io.js';

/** Command-line options of the verbs that read or act on a site without its config file. */
export const SITE_OPTIONS = {
  zookeeper: { type: 'string' },
  site: { type: 'string' },
  root: { type: 'string', default: DEFAULT_ROOT },
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

/**
 * The operator client of `site` for a one-shot verb: logs only warnings and worse, to stderr. Reads
 * the credentials file (rejects with CredentialsError naming it) before connecting.
 */
export function openSiteClient(opts: ZkCliOptions, root: string, site: string): Promise<SiteClient> {
  const logger: Logger = pino({ level: 'warn' }, pino.destination(2));
  return SiteClient.open(
    {
      connect: opts.connect,
      root,
      site,
      sessionTimeoutMs: 10_000,
      connectTimeoutMs: opts.connectTimeoutMs,
      ...(opts.credentialsFile ? { credentialsFile: opts.credentialsFile } : {}),
    },
    { logger, clock: systemClock },
  );
}

/** Positive integer option, or a UsageError naming it. */
export function intOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a whole number of milliseconds, got '${text}'`);
  return n;
}
