// What the site page and /metrics cost the agent at a given size, measured apart in the bench
// process as CPU time (process.cpuUsage: on a shared machine, wall time would measure the neighbours
// too), with the agent's own classes over the readings of real driver polls:
//  - one push of an event stream: the document rendered once for every open page (SiteDocuments.textPieces(),
//    encoded once), and the status check made four times a second (signature());
//  - the first event of a stream with the charts' full 15 minutes of history (chunksWithHistory()
//    after a new sample: built once, then shared by every page that opens before the next sample);
//  - one /metrics render (AgentMetrics.textPieces(), encoded as http.ts does: the registry, the
//    per-device poll histograms and the per-point values) with every device's series filled as the
//    pollers fill them.
import { pino } from 'pino';
import { AgentMetrics } from '../../src/agent/metrics.js';
import type { DeviceReading } from '../../src/agent/device-state.js';
import { HISTORY_SAMPLE_MS, HISTORY_SAMPLES, ReadingsHistory } from '../../src/agent/point-history.js';
import { PointMetrics } from '../../src/agent/point-metrics.js';
import { PointUnits } from '../../src/agent/point-units.js';
import { SiteDocuments } from '../../src/agent/site-page/site-document.js';
import { SiteViewCache } from '../../src/agent/site-page/site-view-cache.js';
import { systemClock, type Clock } from '../../src/clock.js';
import type { PointValue, SiteConfig } from '../../src/config/types.js';

export interface PageCost {
  devices: number;
  /** One push (render, frame, encode), ms of CPU; its size, bytes. */
  pushMs: number;
  pushBytes: number;
  /** One status check of the streams (4 a second while a page is open), ms of CPU. */
  checkMs: number;
  /** The first event of a stream with a full history: build (ms of CPU) and size (bytes). */
  firstEventMs: number;
  firstEventBytes: number;
  /** One /metrics render, ms of CPU; its size, bytes. */
  metricsMs: number;
  metricsBytes: number;
}

const ROUNDS = 10;

/** CPU ms per call of `fn` over `rounds` calls (after one call to warm up). */
async function cpuMs(fn: () => unknown, rounds = ROUNDS): Promise<number> {
  await fn();
  const start = process.cpuUsage();
  for (let i = 0; i < rounds; i++) await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / rounds;
}

/** `values`: each device's values as its driver decoded them. */
export async function pageCost(config: SiteConfig, values: ReadonlyMap<string, Record<string, PointValue>>): Promise<PageCost> {
  const startMs = Date.now();
  let sample = 0;
  // The wall clock of the history: one sample per HISTORY_SAMPLE_MS, the newest just now.
  const clock: Clock = { ...systemClock, nowMs: () => startMs + sample * HISTORY_SAMPLE_MS };
  const readings = (): Record<string, DeviceReading> =>
    Object.fromEntries(
      config.devices.map((d) => [
        d.id,
        { kind: d.kind, status: 'ok' as const, readAt: new Date(clock.nowMs()).toISOString(), values: values.get(d.id) ?? {}, error: null },
      ]),
    );
  let current = readings();
  const history = new ReadingsHistory({ readings: () => current, clock });
  // A full ring: every start() takes one sample (of a reading with a new readAt).
  for (; sample < HISTORY_SAMPLES; sample++) {
    current = readings();
    history.start();
    history.close();
  }
  const units = new PointUnits(config.devices, new Map());
  const statuses = Object.fromEntries(config.devices.map((d) => [d.id, 'ok']));
  const documents = new SiteDocuments({
    site: config.site,
    agentId: config.agent.id,
    devices: config.devices,
    health: () => ({ status: 'ok', zookeeper: 'connected', leader: true, devices: statuses, clockOffsetMs: null, stalled: false }),
    token: () => '0x1',
    sessionState: () => 'connected',
    readings: () => current,
    statusLine: () => config.devices.map((d) => `${d.id}\u0000ok\u0000\u0000`).join(''),
    units,
    history,
    // No ZooKeeper here: the site view stays empty (a few KB in a site of one agent).
    view: new SiteViewCache({ read: () => Promise.reject(new Error('no site view in the bench')), sessionState: () => 'connecting', clock, logger: pino({ level: 'silent' }) }),
    clock,
  });
  let pushBytes = 0;
  // As event-stream.ts makes a push: the document's pieces, each encoded once for every client.
  const frameBytes = 'event: site\ndata: \n\n'.length;
  const pushMs = await cpuMs(() => (pushBytes = documents.textPieces().reduce((n, piece) => n + Buffer.from(piece, 'utf8').length, frameBytes)));
  const checkMs = await cpuMs(() => documents.signature(), ROUNDS * 10);
  let firstEventBytes = 0;
  const firstEventMs = await cpuMs(() => {
    current = readings();
    history.start(); // a new sample: the history's pieces are made anew, as for the first page after it
    history.close();
    sample++;
    const chunks = documents.chunksWithHistory();
    firstEventBytes = chunks.reduce((n, c) => n + Buffer.byteLength(c), 'retry: 2000\n\nevent: site\ndata: \n\n'.length);
  }, 3);

  const metrics = new AgentMetrics();
  new PointMetrics(metrics, { readings: () => current, units, clock });
  for (const d of config.devices) {
    // As a poller binds and fills them: a poll of 1 to 5 ms, a few hundred polls so far.
    const duration = metrics.pollDuration.labels({ device: d.id });
    const ok = metrics.polls.labels({ device: d.id, result: 'ok' });
    metrics.pollOverruns.labels({ device: d.id });
    metrics.deviceUp.labels({ device: d.id, kind: d.kind, bus: d.bus }).set(1);
    for (let i = 0; i < 300; i++) {
      duration.observe(0.001 + (i % 5) / 1000);
      ok.inc();
    }
  }
  let metricsBytes = 0;
  // As http.ts writes it: the pieces, each encoded on its own.
  const metricsMs = await cpuMs(async () => (metricsBytes = (await metrics.textPieces()).reduce((n, piece) => n + Buffer.from(piece, 'utf8').length, 0)));
  return { devices: config.devices.length, pushMs, pushBytes, checkMs, firstEventMs, firstEventBytes, metricsMs, metricsBytes };
}
