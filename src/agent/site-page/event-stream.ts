// GET /api/site/events: the site page's updates as server-sent events. Chosen over the page polling
// /api/site because the agent then renders one document per push for every open page (not one per
// client request), a change of status reaches the page within CHECK_MS instead of a polling period,
// the browser's EventSource reconnects by itself, and a page learns at once that the agent went
// away. The page falls back to polling /api/site when the stream is refused (the cap below).
//
// Each event is the whole document (no history after the first), so an event a client misses costs
// it nothing but a chart sample. Bad clients cannot hold the agent up: at most `maxClients` streams
// (503 beyond), a client that does not read skips events instead of queueing them (one event at most
// waits in its buffers), and one that has not read for STUCK_MS is dropped. Pushing is synchronous and
// happens at most once per `pushMs`, plus at once on a change of status: it never waits on a client.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { SiteDocuments } from './site-document.js';

export const SSE_MAX_CLIENTS = 50;
/** Values and ages are pushed this often while a page is open, ms. */
const PUSH_MS = 1000;
/** Status changes (device error, leadership, session) are looked for this often, and pushed at once, ms. */
const CHECK_MS = 250;
/** A client whose buffers have not drained for this long is dropped (it reconnects if it is alive), ms. */
const STUCK_MS = 30_000;
/** What EventSource waits before reconnecting, ms. */
const RETRY_MS = 2000;

interface StreamClient {
  res: ServerResponse;
  /** Monotonic time since when its buffers have been full; null while it keeps up. */
  stuckSinceMs: number | null;
}

export class SiteEventStream {
  private readonly clients = new Set<StreamClient>();
  private timer: NodeJS.Timeout | null = null;
  private lastSignature: string | null = null;
  private lastPushMs = -Infinity;
  private closed = false;

  constructor(
    private readonly deps: { documents: SiteDocuments; clock: Clock; logger: Logger },
    private readonly opts: { maxClients?: number; pushMs?: number } = {},
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Takes over the response: the first event (with the charts' history) now, then the pushes. */
  open(req: IncomingMessage, res: ServerResponse): void {
    const max = this.opts.maxClients ?? SSE_MAX_CLIENTS;
    if (this.closed || this.clients.size >= max) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10', 'cache-control': 'no-store' });
      res.end(`at most ${max} site page streams at a time: try again later, or poll /api/site\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const client: StreamClient = { res, stuckSinceMs: null };
    this.clients.add(client);
    res.on('close', () => this.drop(client));
    // The history comes in pieces (megabytes at 500 devices): written as they are, never joined.
    res.cork();
    res.write(`retry: ${RETRY_MS}\n\nevent: site\ndata: `);
    for (const chunk of this.deps.documents.chunksWithHistory()) res.write(chunk);
    res.write('\n\n');
    process.nextTick(() => res.uncork());
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), CHECK_MS);
      this.timer.unref();
    }
  }

  /** Ends every stream (the HTTP server closes their sockets next). */
  close(): void {
    this.closed = true;
    for (const c of this.clients) c.res.end();
    this.clients.clear();
    this.stopTimer();
  }

  private tick(): void {
    const nowMs = this.deps.clock.monotonicMs();
    const signature = this.deps.documents.signature();
    if (signature === this.lastSignature && nowMs - this.lastPushMs < (this.opts.pushMs ?? PUSH_MS)) return;
    this.lastSignature = signature;
    this.lastPushMs = nowMs;
    // Encoded once for every client: written as text, each client's response would measure and
    // encode hundreds of KB again (at 500 devices that was most of the cost of a push). In pieces of
    // tens of KB (SiteDocuments.textPieces()), written one after the other to each client.
    const event = [EVENT_HEAD, ...this.deps.documents.textPieces().map((piece) => Buffer.from(piece, 'utf8')), EVENT_END];
    for (const client of this.clients) this.send(client, event, nowMs);
  }

  private send(client: StreamClient, event: readonly Buffer[], nowMs: number): void {
    if (!client.res.writableNeedDrain) {
      client.stuckSinceMs = null;
      for (const piece of event) client.res.write(piece); // corked by the response: one write to the socket
      return;
    }
    // Still busy with an earlier event: skip this one rather than queue it.
    client.stuckSinceMs ??= nowMs;
    if (nowMs - client.stuckSinceMs > STUCK_MS) {
      this.deps.logger.debug({ stuckMs: Math.round(nowMs - client.stuckSinceMs) }, 'site page stream not reading: dropped');
      this.drop(client);
      client.res.destroy();
    }
  }

  private drop(client: StreamClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.lastSignature = null;
  }
}

/** A `site` event is its document as one data line (JSON text has no raw line breaks) between these. */
const EVENT_HEAD = Buffer.from('event: site\ndata: ');
const EVENT_END = Buffer.from('\n\n');
