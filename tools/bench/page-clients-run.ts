// The page clients (page-clients.ts) as a child process of the bench: starting them against an
// agent, and their figures over a window from the lines they print every second.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnChild, type ChildHandle } from '../devtools/processes.js';
import { sleep } from '../devtools/wait.js';
import { summarize, type Summary } from './stats.js';

const CLIENTS_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page-clients.js');

export interface PageClientsResult {
  streams: number;
  /** Events per second of the slowest and the fastest stream over the window. */
  minEventsPerSecond: number;
  maxEventsPerSecond: number;
  /** The longest time any stream waited between two events in the window, ms. */
  maxGapMs: number;
  /** What one stream received per second on average, bytes. */
  bytesPerSecondPerStream: number;
  /** The first event of each stream (with the charts' history as the agent had it then). */
  firstEventBytes: Summary;
  /** From the request to the end of the first event, ms. */
  firstEventMs: Summary;
  scrapeIntervalMs: number;
  /** The /metrics scrapes of the window: time from the request to the end of the body, ms. */
  scrapeMs: Summary;
  scrapeBytes: number;
  failedScrapes: number;
}

interface StreamLine {
  events: number;
  bytes: number;
  firstEventBytes: number | null;
  firstEventMs: number | null;
  maxGapMs: number;
}

interface ClientsLine {
  atMs: number;
  streams: StreamLine[];
  scrapes: { ms: number; bytes: number; status: number }[];
}

/** Running page clients. `mark()` before a window, `result(mark)` after it. */
export class PageClients {
  private constructor(
    readonly child: ChildHandle,
    private readonly scrapeIntervalMs: number,
  ) {}

  /** Opens `streams` event streams on the agent at `httpPort` and waits until each has its first event. */
  static async start(httpPort: number, streams: number, scrapeIntervalMs: number, label: string): Promise<PageClients> {
    const child = spawnChild(process.execPath, [CLIENTS_SCRIPT, String(httpPort), String(streams), String(scrapeIntervalMs)], { label });
    try {
      await child.waitForLine('ready', 60_000);
    } catch (err) {
      await child.stop(2000);
      throw err;
    }
    return new PageClients(child, scrapeIntervalMs);
  }

  get pid(): number {
    if (this.child.pid === undefined || !this.child.isRunning()) throw new Error(`${this.child.label} is not running\n${this.child.tail()}`);
    return this.child.pid;
  }

  mark(): number {
    return this.child.lines.length;
  }

  async result(mark: number): Promise<PageClientsResult> {
    await sleep(1100); // one more line, covering the end of the window
    const lines = this.child.lines.slice(Math.max(0, mark - 1)).map(parseLine).filter((l): l is ClientsLine => l !== null);
    const first = lines[0];
    const last = lines[lines.length - 1];
    if (first === undefined || last === undefined || lines.length < 2) throw new Error(`${this.child.label} printed no counters\n${this.child.tail()}`);
    const seconds = (last.atMs - first.atMs) / 1000;
    const rates = last.streams.map((s, i) => (s.events - (first.streams[i]?.events ?? 0)) / seconds);
    const bytes = last.streams.reduce((sum, s, i) => sum + s.bytes - (first.streams[i]?.bytes ?? 0), 0);
    const scrapes = lines.slice(1).flatMap((l) => l.scrapes);
    const ok = scrapes.filter((s) => s.status === 200);
    return {
      streams: last.streams.length,
      minEventsPerSecond: Math.min(...rates),
      maxEventsPerSecond: Math.max(...rates),
      maxGapMs: Math.max(0, ...lines.slice(1).flatMap((l) => l.streams.map((s) => s.maxGapMs))),
      bytesPerSecondPerStream: bytes / last.streams.length / seconds,
      firstEventBytes: summarize(last.streams.flatMap((s) => (s.firstEventBytes === null ? [] : [s.firstEventBytes]))),
      firstEventMs: summarize(last.streams.flatMap((s) => (s.firstEventMs === null ? [] : [s.firstEventMs]))),
      scrapeIntervalMs: this.scrapeIntervalMs,
      scrapeMs: summarize(ok.map((s) => s.ms)),
      scrapeBytes: ok[ok.length - 1]?.bytes ?? NaN,
      failedScrapes: scrapes.length - ok.length,
    };
  }

  async stop(): Promise<void> {
    await this.child.stop(3000);
  }
}

function parseLine(line: string): ClientsLine | null {
  if (!line.startsWith('{')) return null;
  const v: unknown = JSON.parse(line);
  if (typeof v !== 'object' || v === null || !('atMs' in v) || !('streams' in v) || !('scrapes' in v)) return null;
  const num = (x: unknown): number => (typeof x === 'number' ? x : NaN);
  const orNull = (x: unknown): number | null => (typeof x === 'number' ? x : null);
  const record = (x: unknown): Record<string, unknown> => (typeof x === 'object' && x !== null ? Object.fromEntries(Object.entries(x)) : {});
  const streams = Array.isArray(v.streams) ? v.streams.map(record) : [];
  const scrapes = Array.isArray(v.scrapes) ? v.scrapes.map(record) : [];
  return {
    atMs: num(v.atMs),
    streams: streams.map((s) => ({ events: num(s.events), bytes: num(s.bytes), firstEventBytes: orNull(s.firstEventBytes), firstEventMs: orNull(s.firstEventMs), maxGapMs: num(s.maxGapMs) })),
    scrapes: scrapes.map((s) => ({ ms: num(s.ms), bytes: num(s.bytes), status: num(s.status) })),
  };
}
