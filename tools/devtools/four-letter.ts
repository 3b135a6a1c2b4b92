// ZooKeeper's four-letter words (ruok, srvr, stat, mntr, cons, ...) over a plain TCP connection, or
// over TLS to a server that has only a secure client port: send the word, read until the server
// closes. Needs `4lw.commands.whitelist` on the server.
import net from 'node:net';
import tls from 'node:tls';

/** A client certificate for a server with `ssl.clientAuth=need` (PEM texts). */
export interface TlsClientIdentity {
  cert: string;
  key: string;
  ca: string;
}

export interface FourLetterOptions {
  host?: string;
  timeoutMs?: number;
  /** Talk TLS with this identity (a server with only a secureClientPort). */
  tls?: TlsClientIdentity;
}

export type ZkMode = 'leader' | 'follower' | 'observer' | 'standalone';

/** Sends `cmd` to 127.0.0.1:`port` (or `host`) and returns the whole answer. */
export function fourLetter(port: number, cmd: string, opts: FourLetterOptions = {}): Promise<string> {
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = opts.tls
      ? tls.connect({ host, port, ...opts.tls })
      : net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Timeout after ${timeoutMs}ms [four-letter word '${cmd}' to ${host}:${port}]`));
    }, timeoutMs);
    socket.on(opts.tls ? 'secureConnect' : 'connect', () => socket.end(cmd));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`four-letter word '${cmd}' to ${host}:${port} failed: ${err.message}`, { cause: err }));
    });
    socket.on('close', (hadError) => {
      clearTimeout(timer);
      if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** The `Mode:` line of `srvr`, or null while the server is not serving (e.g. during an election). */
export async function serverMode(port: number, opts: FourLetterOptions = {}): Promise<ZkMode | null> {
  const answer = await fourLetter(port, 'srvr', opts);
  const mode = /^Mode: (\w+)\s*$/m.exec(answer)?.[1];
  return isZkMode(mode) ? mode : null;
}

function isZkMode(value: string | undefined): value is ZkMode {
  return value === 'leader' || value === 'follower' || value === 'observer' || value === 'standalone';
}

/** True when the server answers `ruok` with `imok` (it runs; it may not yet serve requests). */
export async function isOk(port: number, opts: FourLetterOptions = {}): Promise<boolean> {
  try {
    return (await fourLetter(port, 'ruok', opts)) === 'imok';
  } catch {
    return false;
  }
}
