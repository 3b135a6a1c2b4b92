// A TLS tunnel to ZooKeeper for tests, run from the configuration that ships with gridkeeper
// (config/zk-tunnel.conf): its global settings and its first server section are kept as they are,
// with this test's certificate files, ports and server host put in. So a test through this tunnel
// also proves the shipped sample works.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, REPO_ROOT, spawnChild, type ChildHandle } from './processes.js';
import { makeTempDir } from './temp-dirs.js';
import { sleep } from './wait.js';

export const TUNNEL_SAMPLE = path.join(REPO_ROOT, 'config', 'zk-tunnel.conf');
const START_TIMEOUT_MS = 10_000;

export interface TunnelOptions {
  cert: string;
  key: string;
  caCert: string;
  /** The server's secure client port on 127.0.0.1. */
  serverPort: number;
  /** The name the server's certificate must carry (checkHost). Default localhost. */
  serverName?: string;
}

export interface Tunnel {
  /** `127.0.0.1:PORT`, the plain end a ZooKeeper client connects to. */
  readonly connectString: string;
  readonly child: ChildHandle;
  readonly configFile: string;
  close(): Promise<void>;
}

export async function startTunnel(opts: TunnelOptions): Promise<Tunnel> {
  const port = await freePort();
  const configFile = path.join(makeTempDir('stunnel'), 'zk-tunnel.conf');
  fs.writeFileSync(configFile, tunnelConfig(fs.readFileSync(TUNNEL_SAMPLE, 'utf8'), { ...opts, acceptPort: port }));
  const child = spawnChild('stunnel4', [configFile], { label: `stunnel 127.0.0.1:${port} -> 127.0.0.1:${opts.serverPort}` });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await accepts(port))) {
    if (child.exitStatus !== null || Date.now() > deadline) {
      await child.stop(1000);
      throw new Error(`stunnel did not listen on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms:\n${child.stderr()}`);
    }
    await sleep(50);
  }
  return { connectString: `127.0.0.1:${port}`, child, configFile, close: async () => void (await child.stop(2000)) };
}

/**
 * The sample with one server: global `key = value` lines kept (cert, key and CAfile replaced), the
 * first `[section]` kept with accept, connect and checkHost replaced, the other sections dropped.
 */
export function tunnelConfig(sample: string, o: TunnelOptions & { acceptPort: number }): string {
  const replace: Record<string, string> = {
    cert: o.cert,
    key: o.key,
    CAfile: o.caCert,
    accept: `127.0.0.1:${o.acceptPort}`,
    connect: `127.0.0.1:${o.serverPort}`,
    checkHost: o.serverName ?? 'localhost',
  };
  const out: string[] = [];
  let sections = 0;
  for (const line of sample.split('\n')) {
    if (/^\s*\[.+\]\s*$/.test(line)) sections++;
    if (sections > 1) break;
    const m = /^\s*([A-Za-z]+)\s*=/.exec(line);
    const value = m?.[1] === undefined ? undefined : replace[m[1]];
    out.push(value === undefined ? line : `${m?.[1]} = ${value}`);
  }
  for (const key of ['cert', 'key', 'CAfile', 'accept', 'connect', 'checkHost']) {
    if (!out.some((l) => l.startsWith(`${key} =`))) throw new Error(`${TUNNEL_SAMPLE} has no '${key} =' line to fill in`);
  }
  return `${out.join('\n')}\n`;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
