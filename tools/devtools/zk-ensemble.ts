// A ZooKeeper quorum of n local servers (server.N=127.0.0.1:peer:election lines, myid files).
import path from 'node:path';
import { freePorts } from './ports.js';
import { makeTempDir, removeTempDir } from './temp-dirs.js';
import { waitFor } from './wait.js';
import { ZkServerProcess, ZkStartError, zkSettings, type ZkOptions, type ZkServer } from './zk-server.js';

export interface ZkEnsemble {
  /** All servers, comma separated: a client fails over between them. */
  readonly connectString: string;
  readonly servers: readonly ZkServer[];
  /**
   * The server that reports `Mode: leader`, waiting (default 20 s) until the running servers agree
   * on one: after the leader is killed the others need a moment to elect a new one.
   */
  leader(opts?: { timeoutMs?: number }): Promise<ZkServer>;
  /** Waits until every running server serves: one leader, the rest followers. Returns the leader. */
  waitForQuorum(opts?: { timeoutMs?: number }): Promise<ZkServer>;
  /** Stops every server and removes their temp dirs. */
  close(): Promise<void>;
}

class LocalEnsemble implements ZkEnsemble {
  readonly connectString: string;

  constructor(
    readonly servers: readonly ZkServerProcess[],
    private readonly dir: string,
  ) {
    this.connectString = servers.map((s) => s.connectString).join(',');
  }

  async leader(opts: { timeoutMs?: number } = {}): Promise<ZkServer> {
    const timeoutMs = opts.timeoutMs ?? 20_000;
    return waitFor(
      `a leader among ${this.connectString}`,
      async () => {
        const modes = await this.modes();
        const leaders = modes.filter((m) => m.mode === 'leader');
        return leaders.length === 1 ? leaders[0]?.server : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  async waitForQuorum(opts: { timeoutMs?: number } = {}): Promise<ZkServer> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    let last = '';
    try {
      return await waitFor(
        `quorum of ${this.connectString} (one leader, the rest followers)`,
        async () => {
          const modes = await this.modes();
          last = modes.map((m) => `${m.server.id}:${m.mode ?? 'not serving'}`).join(' ');
          const leaders = modes.filter((m) => m.mode === 'leader');
          const followers = modes.filter((m) => m.mode === 'follower');
          if (leaders.length === 1 && followers.length === modes.length - 1) return leaders[0]?.server;
          return undefined;
        },
        { timeoutMs, intervalMs: 100 },
      );
    } catch (err) {
      const logs = this.servers.map((s) => s.logFile).join(' ');
      throw new Error(`${err instanceof Error ? err.message : String(err)} [modes: ${last}] logs: ${logs}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    removeTempDir(this.dir);
  }

  /** The `srvr` mode of each running server (null while it does not serve). */
  private async modes(): Promise<{ server: ZkServerProcess; mode: string | null }[]> {
    const running = this.servers.filter((s) => s.isRunning());
    return Promise.all(running.map(async (server) => ({ server, mode: await server.mode().catch(() => null) })));
  }
}

/**
 * Starts `n` servers (default 3) as one quorum and resolves once one is leader and the rest are
 * followers. Always local processes, also when ZOOKEEPER_CONNECT is set: tests that kill a member
 * need servers of their own.
 */
export async function startEnsemble(n = 3, opts: ZkOptions = {}): Promise<ZkEnsemble> {
  // A port picked free may be taken by someone else before the JVM binds it: try again on fresh ones.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEnsembleOnce(n, opts);
    } catch (err) {
      if (!(err instanceof ZkStartError && err.portInUse) || attempt >= 3) throw err;
    }
  }
}

async function startEnsembleOnce(n: number, opts: ZkOptions): Promise<ZkEnsemble> {
  const settings = zkSettings(opts);
  const dir = makeTempDir('zk-ensemble');
  const ports = await freePorts(3 * n);
  const peers = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    clientPort: ports[3 * i] ?? 0,
    peerPort: ports[3 * i + 1] ?? 0,
    electionPort: ports[3 * i + 2] ?? 0,
  }));
  const servers = peers.map(
    (p) =>
      new ZkServerProcess({
        ...settings,
        id: p.id,
        dir: path.join(dir, `server-${p.id}`),
        clientPort: p.clientPort,
        peers: peers.map(({ id, peerPort, electionPort }) => ({ id, peerPort, electionPort })),
      }),
  );
  const ensemble = new LocalEnsemble(servers, dir);
  try {
    await Promise.all(servers.map((s) => s.start()));
    await ensemble.waitForQuorum({ timeoutMs: settings.startTimeoutMs });
    return ensemble;
  } catch (err) {
    await Promise.all(servers.map((s) => s.kill()));
    throw err;
  }
}
