import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AgentMetrics } from './metrics.js';

export interface Health {
  status: 'ok' | 'degraded';
  zookeeper: 'connected' | 'suspended' | 'lost' | 'connecting';
  leader: boolean;
  devices: Record<string, string>;
  /** true when the poll loop has stalled: /healthz answers 503. */
  stalled: boolean;
}

/**
 * GET /healthz and GET /metrics on a plain node:http server, loopback by default
 * (CONTRACT.md section 4). Anything else is 404; methods other than GET/HEAD are 405.
 */
export class HttpEndpoint {
  private server: Server | null = null;

  constructor(
    private readonly listen: string,
    private readonly deps: { health: () => Health; metrics: AgentMetrics; logger: Logger },
  ) {}

  /** Resolves once listening; rejects with a message naming the address when it cannot bind. */
  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.listen);
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        const { stalled, ...body } = this.deps.health();
        res.writeHead(stalled ? 503 : 200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
        return;
      }
      if (path === '/metrics') {
        this.deps.metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': this.deps.metrics.registry.contentType });
            res.end(text);
          },
          (err: unknown) => {
            this.deps.logger.error({ err }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`http.listen ${this.listen}: ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => this.deps.logger.error({ err }, 'http server error'));
    this.server = server;
    this.deps.logger.info({ listen: this.address() }, 'http endpoint listening');
  }

  address(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `${a.address}:${a.port}` : this.listen;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(i + 1)) };
}
