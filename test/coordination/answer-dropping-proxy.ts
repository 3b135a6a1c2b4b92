// A TCP proxy for one test: it forwards requests to ZooKeeper but can swallow the answers. Armed
// with a byte pattern, the first client->server chunk containing it is forwarded (the server
// executes the request) while everything coming back is dropped, and the connection is closed
// `cutAfterMs` later: the client sees CONNECTIONLOSS for a request that did happen. That is the
// case the lock recipe's unique prefix exists for, made deterministic.
import net from 'node:net';

export class AnswerDroppingProxy {
  private server: net.Server | null = null;
  private portNumber = 0;
  private armed: { pattern: Buffer[]; cutAfterMs: number; fired: () => void } | null = null;
  private readonly sockets = new Set<net.Socket>();

  static async start(targetPort: number): Promise<AnswerDroppingProxy> {
    const proxy = new AnswerDroppingProxy();
    await proxy.listen(targetPort);
    return proxy;
  }

  get address(): string {
    return `127.0.0.1:${this.portNumber}`;
  }

  /** Resolves when a chunk holding every part of `pattern` went to the server and its answer was lost. */
  arm(pattern: (string | Buffer)[], cutAfterMs = 100): Promise<void> {
    return new Promise((resolve) => {
      this.armed = { pattern: pattern.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)), cutAfterMs, fired: resolve };
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private listen(targetPort: number): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
      let dropping = false;
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => {
        const armed = this.armed;
        if (armed && armed.pattern.every((p) => chunk.includes(p))) {
          this.armed = null;
          dropping = true;
          setTimeout(() => {
            client.destroy();
            upstream.destroy();
            armed.fired();
          }, armed.cutAfterMs);
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (!dropping) client.write(chunk);
      });
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        const address = server.address();
        if (address !== null && typeof address !== 'string') this.portNumber = address.port;
        this.server = server;
        resolve();
      });
    });
  }
}
