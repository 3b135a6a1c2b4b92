// The site page's audience for the scale measurement, as a process of its own:
//   node dist-tools/tools/bench/page-clients.js PORT STREAMS SCRAPE_MS
// STREAMS raw HTTP clients holding GET /api/site/events open (server-sent events, as the page's
// EventSource does), each counting the events it receives, and a scraper that GETs /metrics every
// SCRAPE_MS as Prometheus would. Its own process, so that what the clients spend (reading megabytes
// of events) is neither the agent's CPU nor the bench's. Prints `ready` once every stream has had its
// first event, then every second one JSON line:
// {"atMs", "streams":[{"events","bytes","firstEventBytes","firstEventMs","maxGapMs"}], "scrapes":[{"atMs","ms","bytes","status"}]}
// `events` and `bytes` are counts so far; `maxGapMs` is the longest time between two events that
// ended since the last line; `scrapes` are the scrapes that ended since the last line.
import http from 'node:http';

const NEWLINE = 0x0a;
/** An event's first line; other blocks (`retry: ...`) are not events. */
const EVENT_HEAD = 'event: site';

interface Stream {
  requestedAtMs: number;
  events: number;
  bytes: number;
  firstEventBytes: number | null;
  firstEventMs: number | null;
  lastEventAtMs: number | null;
  maxGapMs: number;
  /** The block being received: its size so far and its first characters. */
  blockBytes: number;
  blockHead: string;
  /** The last chunk ended in a line break: a line break at the start of the next ends the block. */
  pendingNewline: boolean;
}

interface ScrapeRecord {
  atMs: number;
  ms: number;
  bytes: number;
  status: number;
}

function openStream(port: number, onEnd: (why: string) => void): Stream {
  const s: Stream = {
    requestedAtMs: performance.now(),
    events: 0,
    bytes: 0,
    firstEventBytes: null,
    firstEventMs: null,
    lastEventAtMs: null,
    maxGapMs: 0,
    blockBytes: 0,
    blockHead: '',
    pendingNewline: false,
  };
  const req = http.get({ host: '127.0.0.1', port, path: '/api/site/events', agent: false }, (res) => {
    if (res.statusCode !== 200) {
      onEnd(`HTTP ${res.statusCode}`);
      res.resume();
      return;
    }
    res.on('data', (chunk: Buffer) => receive(s, chunk));
    res.on('end', () => onEnd('stream ended'));
  });
  req.on('error', (err) => onEnd(err.message));
  return s;
}

/** Splits the stream into blocks at blank lines without decoding it (events are hundreds of KB). */
function receive(s: Stream, chunk: Buffer): void {
  s.bytes += chunk.length;
  let pos = 0;
  if (s.pendingNewline && chunk[0] === NEWLINE) {
    take(s, chunk, 0, 1);
    endBlock(s);
    pos = 1;
  }
  s.pendingNewline = false;
  while (pos < chunk.length) {
    const i = chunk.indexOf('\n\n', pos);
    if (i === -1) {
      take(s, chunk, pos, chunk.length);
      s.pendingNewline = chunk[chunk.length - 1] === NEWLINE;
      return;
    }
    take(s, chunk, pos, i + 2);
    endBlock(s);
    pos = i + 2;
  }
}

function take(s: Stream, chunk: Buffer, from: number, to: number): void {
  s.blockBytes += to - from;
  if (s.blockHead.length < EVENT_HEAD.length) s.blockHead += chunk.toString('latin1', from, Math.min(to, from + EVENT_HEAD.length - s.blockHead.length));
}

function endBlock(s: Stream): void {
  if (s.blockHead === EVENT_HEAD) {
    const nowMs = performance.now();
    s.events += 1;
    if (s.firstEventBytes === null) {
      s.firstEventBytes = s.blockBytes;
      s.firstEventMs = nowMs - s.requestedAtMs;
    }
    if (s.lastEventAtMs !== null) s.maxGapMs = Math.max(s.maxGapMs, nowMs - s.lastEventAtMs);
    s.lastEventAtMs = nowMs;
  }
  s.blockBytes = 0;
  s.blockHead = '';
}

function scrapeOnce(port: number): Promise<ScrapeRecord> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ atMs: Date.now(), ms: performance.now() - t0, bytes, status: res.statusCode ?? 0 }));
    });
    req.on('error', () => resolve({ atMs: Date.now(), ms: performance.now() - t0, bytes: 0, status: 0 }));
  });
}

function main(): void {
  const [port, count, scrapeMs] = process.argv.slice(2).map(Number);
  if (port === undefined || count === undefined || scrapeMs === undefined || ![port, count, scrapeMs].every((n) => Number.isInteger(n) && n > 0)) {
    throw new Error('usage: page-clients.js PORT STREAMS SCRAPE_MS');
  }
  const fail = (why: string): void => {
    process.stderr.write(`page-clients: a stream failed: ${why}\n`);
    process.exit(1);
  };
  const streams = Array.from({ length: count }, () => openStream(port, fail));
  let scrapes: ScrapeRecord[] = [];
  let scraping = false;
  setInterval(() => {
    if (scraping) return; // as Prometheus: one scrape of a target at a time
    scraping = true;
    void scrapeOnce(port).then((r) => {
      scrapes.push(r);
      scraping = false;
    });
  }, scrapeMs);
  let ready = false;
  setInterval(() => {
    if (!ready) {
      if (streams.some((s) => s.events === 0)) return;
      ready = true;
      process.stdout.write('ready\n');
    }
    const line = {
      atMs: Date.now(),
      streams: streams.map((s) => ({ events: s.events, bytes: s.bytes, firstEventBytes: s.firstEventBytes, firstEventMs: s.firstEventMs, maxGapMs: s.maxGapMs })),
      scrapes,
    };
    for (const s of streams) s.maxGapMs = 0;
    scrapes = [];
    process.stdout.write(JSON.stringify(line) + '\n');
  }, 1000);
  process.once('SIGTERM', () => process.exit(0));
}

main();
