// One ZooKeeper server for a test file, and what its tests opened, closed after each test (newest
// first): the set-up every in-process agent test shares.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startZooKeeper, type ZkOptions, type ZkServer } from '../../tools/devtools/zookeeper.js';

export interface Closable {
  close(): Promise<void>;
}

export interface ZooKeeperSuite {
  /** The server (started before the file's first test). */
  readonly zk: ZkServer;
  /** Closed after each test, the last pushed first. */
  readonly toClose: Closable[];
}

/** Call at the top of a test file: starts the server before its tests and stops it after them. */
export function zooKeeperSuite(opts: ZkOptions = {}): ZooKeeperSuite {
  let server: ZkServer | undefined;
  const toClose: Closable[] = [];
  beforeAll(async () => {
    server = await startZooKeeper(opts);
  });
  afterEach(async () => {
    for (const c of toClose.splice(0).reverse()) await c.close();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get zk(): ZkServer {
      if (server === undefined) throw new Error('ZooKeeper is started in beforeAll: use suite.zk inside a test');
      return server;
    },
    toClose,
  };
}
