import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { AgentMetrics } from './metrics.js';

export interface Health {
  status: 'ok' | 'degraded';
  zookeeper: 'connected' | 'suspended' | 'lost' | 'connecting';
  leader: boolean;
  devices: Record<string, string>;
  /** Another live agent has our agent id (we neither publish nor queue for the lock meanwhile). */
  duplicateOf?: { host: string | null; pid: number | null; since: string };
  /**
   * ZooKeeper's clock minus the local wall clock, ms, rounded: positive when the local clock is
   * behind. Every time the agent writes is corrected by it (CONTRACT.md section 9). null until the
   * agent's first write to ZooKeeper taught it ZooKeeper's clock.
   */
  clockOffsetMs: number | null;
  /** true when the poll loop has stalled: /healthz answers 503. */
  stalled: boolean;
}

/** More paths on the same server (the site page, site-page/routes.ts). */
export interface HttpRoutes {
  /** true when it took the request (and answers it); false leaves it to the 404. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
  /** Ends its long-lived responses (event streams); the server closes the sockets next. */
  close(): void;
}

// Limits against bad clients; none of them can hold up polling, which shares the event loop.
/** Request line plus headers, bytes: beyond it Node answers 431 and closes (default 16 KiB). */
const MAX_HEADER_BYTES = 8192;
/** A URL longer than this gets 414 (one that does not fit MAX_HEADER_BYTES gets 431 first). */
const MAX_URL_LENGTH = 2048;
/** A client must send its headers within this, and its whole request within REQUEST_TIMEOUT_MS (408 otherwise), ms. */
const HEADERS_TIMEOUT_MS = 5000;
const REQUEST_TIMEOUT_MS = 10_000;
/** How often those two are checked (Node's default, 30 s, would let a stalled request sit 35 s), ms. */
const TIMEOUT_CHECK_MS = 1000;
/** Open sockets at most; beyond it new connections are closed at once (50 page streams fit well). */
const MAX_CONNECTIONS = 256;

/**
 * GET /healthz and GET /metrics on a plain node:http server, loopback by default
 * (CONTRACT.md section 4), and the site page's paths (`routes`). Anything else is 404; methods other
 * than GET/HEAD are 405; a URL over 2 KiB is 414, headers over 8 KiB are 431.
 */
export class HttpEndpoint {
  private server: Server | null = null;

  constructor(
    private readonly listen: string,
    private readonly deps: { health: () => Health; metrics: AgentMetrics; logger: Logger; routes?: HttpRoutes },
  ) {}

  /** Resolves once listening; rejects with a message naming the address when it cannot bind. */
  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.listen);
    const options = {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    };
    const server = createServer(options, (req, res) => {
      if ((req.url ?? '').length > MAX_URL_LENGTH) {
        res.writeHead(414, { 'content-type': 'text/plain', connection: 'close' }).end(`URL longer than ${MAX_URL_LENGTH} characters\n`);
        return;
      }
      const path = (req.url ?? '/').split('?')[0] ?? '/';
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
        this.deps.metrics.textPieces().then(
          (pieces) => {
            res.writeHead(200, { 'content-type': this.deps.metrics.registry.contentType });
            // Each piece encoded on its own (tens of KB): written as text, the response would encode
            // them all into one buffer of the whole body.
            for (const piece of pieces) res.write(Buffer.from(piece, 'utf8'));
            res.end();
          },
          (err: unknown) => {
            this.deps.logger.error({ err }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
        return;
      }
      if (this.deps.routes?.handle(req, res, path)) return;
      res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${this.deps.routes ? '/, ' : ''}/healthz or /metrics\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`http.listen ${this.listen}: ${err.message}`)));
      server.listen(port, host, () => resolve());
    });
    server.on('error', (err) => this.deps.logger.error({ err }, 'http server error'));
    server.maxConnections = MAX_CONNECTIONS;
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
    this.deps.routes?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function splitHostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(i + 1)) };
}
