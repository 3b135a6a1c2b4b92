// A ZooKeeper session for a tool that does one job and leaves (`gridkeeper status`, `command`, the
// demo, the bench, test observers): unlike the agent, which never waits for ZooKeeper, such a tool
// has nothing to do without a session, so it waits for one and gives up after a while.
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import { readCredentialsFile } from './credentials.js';
import { ConnectTimeoutError } from './errors.js';
import { ZkSession } from './session.js';

export interface ConnectOptions {
  connect: string;
  /** Requested session timeout, ms; the server may grant less. */
  sessionTimeoutMs: number;
  /** Give up when no session is established within this, ms. */
  connectTimeoutMs: number;
  /** One line `user:password`, mode 0600 (zookeeper.auth.credentialsFile); read once, here. */
  credentialsFile?: string;
  /** The C library's stderr log: 0 off .. 4 debug. Default 0: a tool's output stays its own. */
  nativeLogLevel?: 0 | 1 | 2 | 3 | 4;
}

/**
 * A started and connected session. Throws CredentialsError for an unusable credentials file (before
 * connecting) and ConnectTimeoutError when no session came in time (the session is closed then).
 */
export async function connectSession(opts: ConnectOptions, deps: { logger: Logger; clock?: Clock }): Promise<ZkSession> {
  const credentials = opts.credentialsFile === undefined ? undefined : readCredentialsFile(opts.credentialsFile);
  const session = new ZkSession(
    {
      connect: opts.connect,
      sessionTimeoutMs: opts.sessionTimeoutMs,
      nativeLogLevel: opts.nativeLogLevel ?? 0,
      ...(credentials === undefined ? {} : { credentials }),
    },
    { logger: deps.logger, clock: deps.clock ?? systemClock },
  );
  session.start();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectTimeoutError(opts.connect, opts.connectTimeoutMs)), opts.connectTimeoutMs);
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
