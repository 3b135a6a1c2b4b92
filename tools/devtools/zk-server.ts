// One throwaway ZooKeeper server process from the Debian package (QuorumPeerMain), with its own
// config, data and log in a temp dir. Used standalone (zookeeper.ts) and as an ensemble member
// (zk-ensemble.ts). Fast settings for tests: short tick, no fsync, small preallocation, small heap.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { trackProcess } from './child-registry.js';
import { fourLetter, isOk, serverMode, type TlsClientIdentity, type ZkMode } from './four-letter.js';
import { keepTempDir } from './temp-dirs.js';
import { sleep, waitFor } from './wait.js';

export interface ZkOptions {
  /** ZooKeeper's tick; session timeouts are negotiated in [minSessionTimeoutMs, maxSessionTimeoutMs]. Default 200. */
  tickTimeMs?: number;
  /** Default 2 * tickTimeMs (ZooKeeper's own default): 400 ms with the default tick. */
  minSessionTimeoutMs?: number;
  /**
   * Default 30000, not ZooKeeper's 20 * tickTimeMs (4 s with the default tick): a client gets the
   * timeout it asks for (e.g. the config default 10000) unless a test lowers this bound on purpose.
   */
  maxSessionTimeoutMs?: number;
  /** How long start() may take before it fails, printing the log path. Default 30000 (2 shared cores, JVM start). */
  startTimeoutMs?: number;
  /** Serve only a TLS port (secureClientPort, mutual TLS), no plain client port. Default: plain only. */
  tls?: ZkServerTls;
}

/** Files of a TLS-only server, and the client identity the test tooling itself uses for `ruok`. */
export interface ZkServerTls {
  /** PEM file with the server's private key and certificate chain (ZooKeeper's keyStore, type PEM). */
  keyStoreFile: string;
  /** PEM file with the CA certificates a client's certificate must chain to (trustStore, type PEM). */
  trustStoreFile: string;
  /** A client certificate the server accepts, for the four-letter words of start() and mode(). */
  client: TlsClientIdentity;
}

export interface ZkServer {
  /** `myid` in an ensemble (1..n); 0 for a standalone server. */
  readonly id: number;
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT` of this one server. */
  readonly connectString: string;
  readonly tickTimeMs: number;
  /** The temp dir with zoo.cfg, data/ and server.log; null for an external server (ZOOKEEPER_CONNECT). */
  readonly dir: string | null;
  readonly logFile: string | null;
  /** Pid of the running JVM, null when not running (or external). */
  readonly pid: number | null;
  isRunning(): boolean;
  /**
   * Starts it again after stop()/kill(), same ports and data. Resolves once it answers `imok` (and
   * for a standalone server once it serves); an ensemble member may still be joining the quorum:
   * wait with `ensemble.waitForQuorum()`.
   */
  start(): Promise<void>;
  /** SIGTERM, SIGKILL after 3 s; resolves once the process has exited. Data is kept (start() works again). */
  stop(): Promise<void>;
  /** SIGKILL (a crash); resolves once the process has exited. */
  kill(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** `srvr` mode, or null while not serving. */
  mode(): Promise<ZkMode | null>;
  fourLetter(cmd: string): Promise<string>;
}

/** Ports and settings of one server; `peers` is set for an ensemble member. */
export interface ZkServerSpec {
  id: number;
  dir: string;
  clientPort: number;
  tickTimeMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  startTimeoutMs: number;
  peers?: { id: number; peerPort: number; electionPort: number }[];
  /** `clientPort` is then the secure client port. */
  tls?: ZkServerTls;
}

export class ZkStartError extends Error {
  readonly code = 'ZK_START_FAILED';
  constructor(
    message: string,
    readonly logFile: string,
    /** The port was taken between picking and binding it: starting again on fresh ports helps. */
    readonly portInUse: boolean,
  ) {
    super(message);
    this.name = 'ZkStartError';
  }
}

const STOP_GRACE_MS = 3000;
const HOST = '127.0.0.1';

export class ZkServerProcess implements ZkServer {
  readonly id: number;
  readonly host = HOST;
  readonly port: number;
  readonly connectString: string;
  readonly tickTimeMs: number;
  readonly dir: string;
  readonly logFile: string;
  private readonly configFile: string;
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(protected readonly spec: ZkServerSpec) {
    this.id = spec.id;
    this.port = spec.clientPort;
    this.connectString = `${HOST}:${spec.clientPort}`;
    this.tickTimeMs = spec.tickTimeMs;
    this.dir = spec.dir;
    this.logFile = path.join(spec.dir, 'server.log');
    this.configFile = path.join(spec.dir, 'zoo.cfg');
    writeServerFiles(spec, this.configFile);
  }

  get pid(): number | null {
    return this.isRunning() ? (this.child?.pid ?? null) : null;
  }

  isRunning(): boolean {
    const child = this.child;
    return child !== null && child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Spawns the JVM and resolves once it answers `ruok` (an ensemble member may still be electing). */
  async start(): Promise<void> {
    if (this.isRunning()) return;
    const logFd = fs.openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(javaBinary(), [...jvmArgs(this.dir), 'org.apache.zookeeper.server.quorum.QuorumPeerMain', this.configFile], {
        stdio: ['ignore', logFd, logFd],
      });
    } finally {
      fs.closeSync(logFd);
    }
    const label = `zookeeper ${this.connectString}${this.spec.peers ? ` (myid ${this.id})` : ''}`;
    const pid = child.pid;
    const untrack = pid === undefined ? () => {} : trackProcess(pid, label);
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        untrack();
        resolve();
      });
      child.once('error', (err) => {
        // Only when the JVM could not be spawned at all (no java on PATH).
        fs.appendFileSync(this.logFile, `spawn ${javaBinary()} failed: ${err.message}\n`);
        untrack();
        resolve();
      });
    });
    try {
      await this.waitForOk(child);
    } catch (err) {
      await this.kill();
      throw this.startError(label, err);
    }
  }

  private async waitForOk(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + this.spec.startTimeoutMs;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        throw new Error(`the JVM exited during start (code ${child.exitCode}, signal ${child.signalCode})`);
      }
      if (await isOk(this.port, { timeoutMs: 1000, ...this.tlsOption() })) return;
      if (Date.now() > deadline) throw new Error(`Timeout after ${this.spec.startTimeoutMs}ms waiting for ruok => imok`);
      await sleep(50);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.isRunning()) return this.exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.isRunning()) child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child && this.isRunning()) child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  mode(): Promise<ZkMode | null> {
    return serverMode(this.port, this.tlsOption());
  }

  fourLetter(cmd: string): Promise<string> {
    return fourLetter(this.port, cmd, this.tlsOption());
  }

  private tlsOption(): { tls?: TlsClientIdentity } {
    return this.spec.tls ? { tls: this.spec.tls.client } : {};
  }

  /** Waits until the server serves requests in one of `modes` (standalone, or leader/follower). */
  async waitForMode(modes: ZkMode[], timeoutMs: number): Promise<ZkMode> {
    return waitFor(
      `zookeeper ${this.connectString} to serve as ${modes.join(' or ')}`,
      async () => {
        const mode = await this.mode();
        return mode !== null && modes.includes(mode) ? mode : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  private startError(label: string, cause: unknown): ZkStartError {
    keepTempDir(this.dir);
    const log = readTail(this.logFile, 40);
    const portInUse = /Address already in use|BindException/.test(log);
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new ZkStartError(
      `${label} failed to start: ${reason}. Log: ${this.logFile}\n--- last lines ---\n${log}`,
      this.logFile,
      portInUse,
    );
  }
}

function javaBinary(): string {
  if (process.env.JAVA) return process.env.JAVA;
  return fs.existsSync('/usr/bin/java') ? '/usr/bin/java' : 'java';
}

/**
 * The classpath: our own conf dir first (log4j.properties writing to stdout, which goes to
 * server.log), then the Debian package's. zookeeper.jar's manifest lists the jars it needs
 * (jute, netty, jetty, slf4j-api, ...); the slf4j->log4j 1.2 binding is not among them, so add it
 * (without it ZooKeeper runs fine but logs nothing).
 */
function classpath(dir: string): string {
  const entries = [path.join(dir, 'conf'), '/etc/zookeeper/conf', '/usr/share/java/zookeeper.jar'];
  // netty's codec and handler jars are not in zookeeper.jar's manifest either; the Netty connection
  // factory of a TLS port needs them.
  const extras = ['slf4j-log4j12.jar', 'log4j-1.2.jar', 'netty-codec.jar', 'netty-handler.jar'].map((jar) => `/usr/share/java/${jar}`);
  for (const jar of extras) {
    if (fs.existsSync(jar)) entries.push(jar);
  }
  return entries.join(':');
}

function jvmArgs(dir: string): string[] {
  return [
    // Many JVMs share 2 cores in the test run: small heap, serial GC, C1 only (faster start, less CPU).
    '-Xmx128m',
    '-Xms16m',
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:-UsePerfData', // no /tmp/hsperfdata_* files
    '-Djava.awt.headless=true',
    '-Dzookeeper.admin.enableServer=false',
    '-Dzookeeper.jmx.log4j.disable=true',
    // A killed server may leave a transaction log without a snapshot; start anyway (test data only).
    '-Dzookeeper.snapshot.trust.empty=true',
    // Leader election: peers on loopback answer at once, so retry often instead of backing off to 60 s.
    '-Dzookeeper.fastleader.minNotificationInterval=100',
    '-Dzookeeper.fastleader.maxNotificationInterval=1000',
    '-Dzookeeper.cnxTimeout=1000',
    '-cp',
    classpath(dir),
  ];
}

function writeServerFiles(spec: ZkServerSpec, configFile: string): void {
  const dataDir = path.join(spec.dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.mkdirSync(path.join(spec.dir, 'conf'), { recursive: true });
  fs.writeFileSync(
    path.join(spec.dir, 'conf', 'log4j.properties'),
    [
      'log4j.rootLogger=INFO, CONSOLE',
      'log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender',
      'log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n',
      '',
    ].join('\n'),
  );
  const ticks = (ms: number): number => Math.max(2, Math.ceil(ms / spec.tickTimeMs));
  const lines = [
    `tickTime=${spec.tickTimeMs}`,
    // Followers get 10 s to sync at start and 2 s of silence before they drop out (loaded machine).
    `initLimit=${ticks(10_000)}`,
    `syncLimit=${ticks(2_000)}`,
    `dataDir=${dataDir}`,
    ...(spec.tls ? secureClientLines(spec.clientPort, spec.tls) : [`clientPort=${spec.clientPort}`, `clientPortAddress=${HOST}`]),
    `minSessionTimeout=${spec.minSessionTimeoutMs}`,
    `maxSessionTimeout=${spec.maxSessionTimeoutMs}`,
    'admin.enableServer=false',
    '4lw.commands.whitelist=*',
    'maxClientCnxns=0',
    // Throwaway data: no fsync, and 1 MB instead of 64 MB preallocated transaction log files.
    'forceSync=no',
    'preAllocSize=1024',
    'autopurge.purgeInterval=0',
    'reconfigEnabled=false',
  ];
  for (const peer of spec.peers ?? []) {
    lines.push(`server.${peer.id}=${HOST}:${peer.peerPort}:${peer.electionPort}`);
  }
  fs.writeFileSync(configFile, `${lines.join('\n')}\n`);
  if (spec.peers) fs.writeFileSync(path.join(dataDir, 'myid'), `${spec.id}\n`);
}

/**
 * A TLS-only client port with mutual TLS. Keys ZooKeeper does not know as config keys become
 * `zookeeper.*` system properties, which is where the Netty factory and the ssl.* settings are read.
 */
function secureClientLines(port: number, tls: ZkServerTls): string[] {
  return [
    `secureClientPort=${port}`,
    `secureClientPortAddress=${HOST}`,
    'serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory',
    `ssl.keyStore.location=${tls.keyStoreFile}`,
    'ssl.keyStore.type=PEM',
    `ssl.trustStore.location=${tls.trustStoreFile}`,
    'ssl.trustStore.type=PEM',
    'ssl.clientAuth=need',
  ];
}

function readTail(file: string, lines: number): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolved ZkOptions with defaults. */
export function zkSettings(opts: ZkOptions = {}): Required<Omit<ZkOptions, 'tls'>> & Pick<ZkOptions, 'tls'> {
  const tickTimeMs = opts.tickTimeMs ?? 200;
  return {
    tickTimeMs,
    minSessionTimeoutMs: opts.minSessionTimeoutMs ?? 2 * tickTimeMs,
    maxSessionTimeoutMs: opts.maxSessionTimeoutMs ?? Math.max(30_000, 20 * tickTimeMs),
    startTimeoutMs: opts.startTimeoutMs ?? 30_000,
    ...(opts.tls ? { tls: opts.tls } : {}),
  };
}
