// The site page's paths on the agent's HTTP endpoint (CONTRACT.md section 9):
//   GET /                 the page (page-html.ts), /site.css and /site.js beside it
//   GET /api/site         the site document (site-document.ts) as JSON, with the charts' history
//   GET /api/site/events  the same as server-sent events (event-stream.ts)
// Read-only: http.ts answers any method but GET and HEAD with 405 before it gets here.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { SiteEventStream } from './event-stream.js';
import { PAGE_CSS } from './page-css.js';
import { PAGE_HTML } from './page-html.js';
import { PAGE_SCRIPT } from './page-script.js';
import { SiteDocuments, type SiteSources } from './site-document.js';

/** GET /api/site waits this long for a site view refresh before answering with the cached one, ms. */
const API_VIEW_WAIT_MS = 1000;

/** Nothing but the agent itself: no script, style, image or connection elsewhere, no framing. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const COMMON_HEADERS: OutgoingHttpHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

interface Asset {
  body: Buffer;
  headers: OutgoingHttpHeaders;
}

function asset(text: string, contentType: string, extra: OutgoingHttpHeaders = {}): Asset {
  const body = Buffer.from(text, 'utf8');
  return { body, headers: { ...COMMON_HEADERS, ...extra, 'content-type': contentType, 'content-length': body.length } };
}

export class SitePage {
  private readonly documents: SiteDocuments;
  private readonly stream: SiteEventStream;
  private readonly log: Logger;
  private readonly assets: ReadonlyMap<string, Asset>;

  constructor(sources: SiteSources, deps: { logger: Logger }, opts: { maxStreams?: number } = {}) {
    this.log = deps.logger;
    this.documents = new SiteDocuments(sources);
    this.stream = new SiteEventStream(
      { documents: this.documents, clock: sources.clock, logger: deps.logger },
      opts.maxStreams === undefined ? {} : { maxClients: opts.maxStreams },
    );
    const page = asset(PAGE_HTML, 'text/html; charset=utf-8', { 'content-security-policy': CSP, 'x-frame-options': 'DENY' });
    this.assets = new Map([
      ['/', page],
      ['/index.html', page],
      ['/site.css', asset(PAGE_CSS, 'text/css; charset=utf-8')],
      ['/site.js', asset(PAGE_SCRIPT, 'text/javascript; charset=utf-8')],
    ]);
  }

  /** Open event streams (for health and tests). */
  get streams(): number {
    return this.stream.clientCount;
  }

  /** Serves `path` when it is one of the page's (true), else leaves the response alone (false). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const a = this.assets.get(path);
    if (a !== undefined) {
      res.writeHead(200, a.headers);
      res.end(req.method === 'HEAD' ? undefined : a.body);
      return true;
    }
    if (path === '/api/site') {
      this.documents.chunksWithHistoryFresh(API_VIEW_WAIT_MS).then(
        (chunks) => {
          // No content-length: the pieces go out as they are (chunked), never joined into one string.
          res.writeHead(200, { ...COMMON_HEADERS, 'cache-control': 'no-store', 'content-type': 'application/json' });
          if (req.method !== 'HEAD') {
            res.cork();
            for (const chunk of chunks) res.write(chunk);
            process.nextTick(() => res.uncork());
          }
          res.end();
        },
        (err: unknown) => {
          this.log.error({ err }, 'site document failed');
          if (!res.headersSent) res.writeHead(500).end();
        },
      );
      return true;
    }
    if (path === '/api/site/events') {
      this.stream.open(req, res);
      return true;
    }
    return false;
  }

  close(): void {
    this.stream.close();
  }
}
