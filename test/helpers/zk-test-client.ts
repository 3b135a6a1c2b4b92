// A plain client of the `zookeeper` package, for the tests of the test tooling itself (throwaway
// ZooKeeper servers, the TCP proxy): they check nodes appear and vanish without any of the product's
// code in the way. Tests that read or write a site's tree use the operator's client, SiteClient
// (src/coordination/site-client.ts), as `gridkeeper status` does; this one only connects with safe
// settings and cleans up.
import ZooKeeper from 'zookeeper';
import { waitFor } from '../../tools/devtools/wait.js';

const open = new Set<ZooKeeper>();

/**
 * A connected client. `response_counter_limit` is raised from the package's 10: after that many
 * "nothing to process" wake-ups in a row the package closes the session as if expired, which on a
 * busy machine can happen during the first connect, and 'connect' then never comes.
 */
export async function connectZk(connect: string, opts: { sessionTimeoutMs?: number; connectTimeoutMs?: number } = {}): Promise<ZooKeeper> {
  const client = new ZooKeeper({
    connect,
    timeout: opts.sessionTimeoutMs ?? 4000,
    debug_level: ZooKeeper.constants.ZOO_LOG_LEVEL_ERROR,
    host_order_deterministic: false,
    response_counter_limit: 10_000,
  });
  open.add(client);
  const connected = new Promise<ZooKeeper>((resolve, reject) => {
    client.once('close', () => reject(new Error(`the client to ${connect} was closed before it connected`)));
    client.connect({}, (err: Error | null) => (err ? reject(err) : resolve(client)));
  });
  // Generous: a first connect on 2 shared cores, possibly to a freshly elected ensemble.
  return waitFor(`a session on ${connect}`, () => connected, { timeoutMs: opts.connectTimeoutMs ?? 15_000 });
}

/** Closes one client (safe to call twice). */
export function closeZk(client: ZooKeeper): void {
  if (!open.delete(client)) return;
  client.close();
}

/** Closes every client connectZk() opened and that is still open. For afterAll. */
export function closeAllZk(): void {
  for (const client of [...open]) closeZk(client);
}

/** exists() of the package rejects with "-101 no node" for a missing node; this answers false. */
export async function nodeExists(client: ZooKeeper, path: string): Promise<boolean> {
  try {
    await client.exists(path, false);
    return true;
  } catch (err) {
    if (err instanceof Error && err.message.startsWith(`${ZooKeeper.constants.ZNONODE} `)) return false;
    throw err;
  }
}
