// Throwaway ZooKeeper servers for tests, from the Debian `zookeeper` package.
//
//   const zk = await startZooKeeper();            // standalone, tick 200 ms
//   ... connect to zk.connectString ...
//   await zk.stop();                              // in afterAll
//
//   const ens = await startEnsemble(3);           // quorum; ens.connectString lists all three
//   await (await ens.leader()).kill();            // a new leader is elected among the other two
//   await ens.close();
//
// Session timeouts: tick 200 ms by default, so the server grants anything in [400 ms, 30 s]
// (see ZkOptions). Set ZOOKEEPER_CONNECT=host:port,... to run startZooKeeper() tests against an
// existing server instead (stop() is then a no-op and kill()/restart() throw); startEnsemble()
// always starts local servers, because its tests kill and restart members.
//
// Every server is killed when the test file's process ends, even if a test forgets stop(); its
// data and log (server.log) live in a temp dir removed at that point, except after a failed start,
// whose error names the log (GRIDKEEPER_KEEP_TEST_FILES=1 keeps them all). To look at a site's
// tree from a test, use SiteClient (src/coordination/site-client.ts); test/helpers/zk-test-client.ts
// is a bare client for testing these servers themselves.
import { freePort } from './ports.js';
import { makeTempDir } from './temp-dirs.js';
import { fourLetter, serverMode, type ZkMode } from './four-letter.js';
import { ZkServerProcess, ZkStartError, zkSettings, type ZkOptions, type ZkServer } from './zk-server.js';

export { fourLetter, serverMode, isOk, type ZkMode } from './four-letter.js';
export { startEnsemble, type ZkEnsemble } from './zk-ensemble.js';
export { ZkStartError, type ZkOptions, type ZkServer } from './zk-server.js';

/** A standalone server, ready (serving, `Mode: standalone`) when the promise resolves. */
export async function startZooKeeper(opts: ZkOptions = {}): Promise<ZkServer> {
  const external = process.env.ZOOKEEPER_CONNECT;
  if (external) return new ExternalZkServer(external, zkSettings(opts).tickTimeMs);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStandaloneOnce(opts);
    } catch (err) {
      // The free port was taken before the JVM bound it: try again on a fresh one.
      if (!(err instanceof ZkStartError && err.portInUse) || attempt >= 3) throw err;
    }
  }
}

async function startStandaloneOnce(opts: ZkOptions): Promise<ZkServer> {
  const server = new StandaloneServer({ ...zkSettings(opts), id: 0, dir: makeTempDir('zk'), clientPort: await freePort() });
  await server.start();
  return server;
}

/**
 * Ready only once it serves requests (`Mode: standalone`), a moment after `ruok` first answers.
 * stop() keeps the data so that start() brings the same tree back; the temp dir goes at exit.
 */
class StandaloneServer extends ZkServerProcess {
  override async start(): Promise<void> {
    await super.start();
    await this.waitForMode(['standalone'], this.spec.startTimeoutMs);
  }
}

/** ZOOKEEPER_CONNECT: someone else's server. Nothing to start or stop. */
class ExternalZkServer implements ZkServer {
  readonly id = 0;
  readonly host: string;
  readonly port: number;
  readonly dir = null;
  readonly logFile = null;
  readonly pid = null;

  constructor(
    readonly connectString: string,
    readonly tickTimeMs: number,
  ) {
    const first = connectString.split(',')[0]?.split('/')[0] ?? '';
    const match = /^(.*):(\d+)$/.exec(first);
    this.host = match?.[1] ?? first;
    this.port = match?.[2] ? Number(match[2]) : 2181;
  }

  isRunning(): boolean {
    return true;
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  kill(): Promise<void> {
    return Promise.reject(new Error(`kill() is not possible on the external ZOOKEEPER_CONNECT=${this.connectString}`));
  }
  restart(): Promise<void> {
    return Promise.reject(new Error(`restart() is not possible on the external ZOOKEEPER_CONNECT=${this.connectString}`));
  }
  mode(): Promise<ZkMode | null> {
    return serverMode(this.port, { host: this.host });
  }
  fourLetter(cmd: string): Promise<string> {
    return fourLetter(this.port, cmd, { host: this.host });
  }
}
