// 2. Scale: one agent polling 100, then 500 simulated Modbus TCP devices (generic profiles in
// turn, 1 s interval) served by a `gridkeeper simulate --freeze` process: 20 unit ids behind each
// TCP port, as behind a Modbus TCP gateway. Each size is measured over a window after warm-up, then
// the plain modbus-serial loop (plain-loop.ts) reads the same registers from the same simulator.
import type { SiteConfig } from '../../src/config/types.js';
import { DEFAULT_ROOT, SiteClient, SitePaths, type ZkSession } from '../../src/coordination/index.js';
import { freePort, freePorts } from '../devtools/ports.js';
import { spawnGridkeeper } from '../devtools/processes.js';
import { sleep } from '../devtools/wait.js';
import { startAgent, untilAllOk } from './agent-process.js';
import type { AgentWindow } from './agent-window.js';
import { PageClients, type PageClientsResult } from './page-clients-run.js';
import { loopPlanOf, PlainLoop, type LoopResult } from './plain-loop-run.js';
import { measureSideBySide, type SideBySide } from './side-by-side.js';
import { figure, type Figure, type Section } from './report.js';
import { gatewayDevices, readSite, writeSite } from './site-config.js';
import { attributeCpu, type Attribution } from './cpu-attribution.js';
import { scaleAnalysis } from './scale-analysis.js';

export const SIZES = [100, 500] as const;
const UNITS_PER_BUS = 20;
const WARM_UP_MS = 30_000;
const WINDOW_MS = 20_000;
const ON_TIME_TARGET = 0.99;
const CPU_FACTOR = 1.5;
const RSS_LIMIT_MB = 150;
const ZNODE_LIMIT_KB = 1024;
/**
 * Per request, ms. 20 devices behind one gateway must fit the refresh writes of their held setpoints
 * within the shortest refresh interval (the config check of CONTRACT.md section 7): 1000 ms would not.
 * Over loopback every answer comes in about a millisecond, so the timeout never fires.
 */
const BUS_TIMEOUT_MS = 500;
/** Site pages open on the agent during the window (issue 12), and how often /metrics is scraped meanwhile. */
export const PAGE_STREAMS = 10;
/** Demanding: Prometheus scrapes every 15 s by default; the bench takes a third of that. */
export const SCRAPE_INTERVAL_MS = 5000;
/** A stream should see one event per second: fewer than this many on average is a miss. */
const MIN_EVENTS_PER_SECOND = 0.9;
/** /metrics at 500 devices renders in under this (issue 12), ms. */
const SCRAPE_LIMIT_MS = 50;

export interface ScaleRun {
  devices: number;
  buses: number;
  agent: AgentWindow;
  snapshotBytes: number | null;
  /** The simulator serves both the agent and the plain loop during the window. */
  simulatorCoreShare: number | null;
  loop: LoopResult;
  /** The page clients and the /metrics scraper beside the agent (page-clients.ts). */
  page: PageClientsResult;
  pageClientsCoreShare: number | null;
}

export async function scale(dir: string, zookeeper: string, session: ZkSession): Promise<Section> {
  const largest = Math.max(...SIZES);
  const busCount = Math.ceil(largest / UNITS_PER_BUS);
  const ports = await freePorts(busCount);
  const buses = ports.map((port, i) => ({ id: `gw-${String(i + 1).padStart(2, '0')}`, port, timeoutMs: BUS_TIMEOUT_MS }));
  const simFile = writeSite(dir, 'scale-simulator', {
    site: 'bench-scale',
    agentId: 'simulator',
    zookeeper,
    httpPort: null,
    buses,
    devices: gatewayDevices(largest, UNITS_PER_BUS, buses.map((b) => b.id), 1000),
  });
  const sim = spawnGridkeeper(['simulate', '--config', simFile, '--freeze'], { label: 'scale simulator', env: { LOG_LEVEL: 'warn' } });
  const runs: ScaleRun[] = [];
  try {
    await sim.waitForLine('ready', 60_000);
    const simPid = sim.pid;
    if (simPid === undefined) throw new Error('the simulator has no pid');
    for (const n of SIZES) {
      const used = buses.slice(0, Math.ceil(n / UNITS_PER_BUS));
      const site = `bench-scale-${n}`;
      const agentId = `scale-${n}`;
      const httpPort = await freePort();
      const file = writeSite(dir, agentId, {
        site,
        agentId,
        zookeeper,
        httpPort,
        buses: used,
        devices: gatewayDevices(n, UNITS_PER_BUS, used.map((b) => b.id), 1000),
      });
      const config: SiteConfig = readSite(file);
      const agent = startAgent(file, `agent (${n} devices)`);
      let loop: PlainLoop | null = null;
      let page: PageClients | null = null;
      let measured: SideBySide;
      let pageResult: PageClientsResult;
      let snapshotBytes: number | null = null;
      try {
        await untilAllOk(agent, httpPort, n, 60_000);
        page = await PageClients.start(httpPort, PAGE_STREAMS, SCRAPE_INTERVAL_MS, `page clients (${n} devices)`);
        loop = await PlainLoop.start(dir, `loop-${n}`, loopPlanOf(config));
        await sleep(WARM_UP_MS);
        const pageMark = page.mark();
        measured = await measureSideBySide(agent, httpPort, loop, WINDOW_MS, [
          { label: 'simulator', pid: simPid },
          { label: 'page clients', pid: page.pid },
        ]);
        pageResult = await page.result(pageMark);
        const client = new SiteClient(session, new SitePaths(DEFAULT_ROOT, site));
        snapshotBytes = (await client.stat(client.paths.reading(agentId)))?.dataLength ?? null;
      } finally {
        await page?.stop();
        await loop?.stop();
        await agent.stop(6000);
      }
      runs.push({
        devices: n,
        buses: used.length,
        agent: measured.agent,
        snapshotBytes,
        simulatorCoreShare: measured.others.simulator?.coreShare ?? null,
        loop: measured.loop,
        page: pageResult,
        pageClientsCoreShare: measured.others['page clients']?.coreShare ?? null,
      });
    }
  } finally {
    await sim.stop(5000);
  }
  return section(runs, await attributeCpu(readSite(simFile), SIZES));
}

function section(runs: ScaleRun[], attribution: Attribution): Section {
  const figures: Figure[] = [];
  for (const r of runs) {
    const n = r.devices;
    const largest = n === Math.max(...SIZES);
    figures.push(
      figure({
        id: `scale.${n}.onTime`,
        label: `${n} devices: polls on time (< 0.5 s late)`,
        value: r.agent.onTimeShare * 100,
        unit: '%',
        baseline: { label: 'plain loop', value: r.loop.onTimeShare * 100 },
        target: largest ? { text: '>= 99 %', op: '>=', limit: ON_TIME_TARGET * 100 } : null,
      }),
      figure({ id: `scale.${n}.pollP50`, label: `${n} devices: poll latency p50`, value: r.agent.pollP50Ms, unit: 'ms', baseline: { label: 'plain loop', value: r.loop.readP50Ms } }),
      figure({ id: `scale.${n}.pollP99`, label: `${n} devices: poll latency p99`, value: r.agent.pollP99Ms, unit: 'ms', baseline: { label: 'plain loop', value: r.loop.readP99Ms } }),
      figure({
        id: `scale.${n}.cpu`,
        label: `${n} devices: CPU (share of one core)`,
        value: r.agent.coreShare * 100,
        unit: '%',
        baseline: { label: 'plain loop', value: r.loop.coreShare * 100 },
        target: { text: `<= ${CPU_FACTOR}x plain loop (${(r.loop.coreShare * 100 * CPU_FACTOR).toFixed(1)} %)`, op: '<=', limit: r.loop.coreShare * 100 * CPU_FACTOR },
      }),
      figure({
        id: `scale.${n}.rss`,
        label: `${n} devices: peak RSS`,
        value: r.agent.peakRssMB,
        unit: 'MB',
        baseline: { label: 'plain loop', value: r.loop.peakRssMB },
        target: largest ? { text: `< ${RSS_LIMIT_MB} MB`, op: '<', limit: RSS_LIMIT_MB } : null,
      }),
      figure({
        id: `scale.${n}.errors`,
        label: `${n} devices: failed polls in the window`,
        value: r.agent.errorPolls,
        unit: '',
        baseline: { label: 'plain loop', value: r.loop.errors },
        target: { text: '0', op: '<=', limit: 0 },
      }),
    );
    figures.push(
      figure({
        id: `scale.${n}.events`,
        label: `${n} devices: site page events per second (slowest of ${r.page.streams} streams)`,
        value: r.page.minEventsPerSecond,
        unit: '/s',
        target: { text: `>= ${MIN_EVENTS_PER_SECOND} /s (one a second)`, op: '>=', limit: MIN_EVENTS_PER_SECOND },
      }),
    );
    const cost = attribution.page.find((c) => c.devices === n);
    if (largest) {
      figures.push(
        figure({
          id: `scale.${n}.metricsRender`,
          label: `${n} devices: /metrics render (CPU time, measured apart)`,
          value: cost?.metricsMs ?? null,
          unit: 'ms',
          target: { text: `< ${SCRAPE_LIMIT_MS} ms`, op: '<', limit: SCRAPE_LIMIT_MS },
        }),
        figure({
          id: `scale.${n}.scrape`,
          label: `${n} devices: /metrics scrape, request to last byte, p50 (every ${SCRAPE_INTERVAL_MS / 1000} s)`,
          value: r.page.scrapeMs.p50,
          unit: 'ms',
        }),
        figure({
          id: `scale.${n}.firstEventFull`,
          label: `${n} devices: first site page event with 15 min of history: size`,
          value: cost === undefined ? null : cost.firstEventBytes / (1024 * 1024),
          unit: 'MB',
        }),
        figure({
          id: `scale.${n}.firstEventBuild`,
          label: `${n} devices: first site page event with 15 min of history: build (CPU time)`,
          value: cost?.firstEventMs ?? null,
          unit: 'ms',
        }),
        figure({
          id: `scale.${n}.firstEventMs`,
          label: `${n} devices: first site page event as the streams got it (${(r.page.firstEventBytes.max / 1024).toFixed(0)} KB): request to last byte, worst of ${r.page.streams}`,
          value: r.page.firstEventMs.max,
          unit: 'ms',
        }),
        figure({
          id: `scale.${n}.snapshot`,
          label: `${n} devices: readings snapshot size`,
          value: r.snapshotBytes === null ? null : r.snapshotBytes / 1024,
          unit: 'KB',
          target: { text: '< 1 MB (znode limit)', op: '<', limit: ZNODE_LIMIT_KB },
        }),
      );
    }
  }
  const method = [
    `Each size: one \`gridkeeper run\` process, ${UNITS_PER_BUS} unit ids behind each Modbus TCP port (as behind a TCP gateway),`,
    'the generic inverter, turbine and BMS profiles in turn, every device at 1 s, publishing at 1 s to a local',
    'ZooKeeper; the devices are served by one `gridkeeper simulate --freeze` process. Baseline: a plain loop over',
    '`modbus-serial` in its own process (tools/bench/plain-loop.ts), one connection per bus, reading every device of',
    "the bus each second with the planner's merged requests and nothing else; its poll latency is the time to read",
    'one device. The agent and the plain loop run **side by side** against the same simulator, so that both are',
    'measured under the same conditions on this shared machine (the simulator serves both). After every device was',
    `polled once and ${WARM_UP_MS / 1000} s of warm-up, ${WINDOW_MS / 1000} s are measured: the deltas of two \`/metrics\` scrapes`,
    '(`gridkeeper_poll_start_delay_seconds`, `gridkeeper_polls_total`, `gridkeeper_poll_overruns_total`,',
    '`gridkeeper_poll_duration_seconds`, quantiles interpolated inside the histogram buckets), CPU from',
    '`/proc/PID/stat` (utime+stime over wall time; "of it kernel" is stime, for these processes mostly socket',
    'system calls), RSS from `/proc/PID/status` (VmRSS, and VmHWM for the peak). A poll is on time when it starts',
    'less than half an interval after its schedule (the poller\'s own definition); a skipped tick counts as late.',
    `The warm-up is ${WARM_UP_MS / 1000} s because a daemon is measured as it runs for months, not as it starts: in its first`,
    "half minute V8 is still compiling the hot code (the agent optimised about 55 functions in the 30 s after a 5 s",
    'warm-up, 12 in the 30 s after a minute, `node --trace-opt`), work that both processes do once and that a short',
    'window charges to the smaller program least.',
    '',
    '| devices | buses | ticks | overruns | on time < 0.5 s | on time < 0.1 s | start delay p99 | requests/s (agent / loop) | publishes/s | agent CPU (of it kernel) | loop CPU (of it kernel) | simulator CPU | agent RSS now / peak | loop RSS now / peak |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...runs.map(
      (r) =>
        `| ${r.devices} | ${r.buses} | ${r.agent.ticks} | ${r.agent.overruns} | ${pct(r.agent.onTimeShare)} | ${pct(r.agent.onTime100msShare)} | ${r.agent.startDelayP99Ms.toFixed(1)} ms | ` +
        `${r.agent.requestsPerSecond.toFixed(0)} / ${r.loop.requestsPerSecond.toFixed(0)} | ${r.agent.publishesPerSecond.toFixed(2)} | ` +
        `${pct(r.agent.coreShare)} (${pct(r.agent.systemShare)}) | ${pct(r.loop.coreShare)} (${pct(r.loop.systemShare)}) | ${pct(r.simulatorCoreShare ?? NaN)} | ` +
        `${r.agent.rssMB.toFixed(1)} / ${r.agent.peakRssMB.toFixed(1)} MB | ${r.loop.rssMB.toFixed(1)} / ${r.loop.peakRssMB.toFixed(1)} MB |`,
    ),
    '',
    `Beside the agent, in a process of its own (tools/bench/page-clients.ts; its CPU is not the agent's), ${PAGE_STREAMS} raw HTTP`,
    'clients hold `GET /api/site/events` open from before the warm-up to the end of the window, as open site pages do,',
    `and count the events they receive; a scraper GETs \`/metrics\` every ${SCRAPE_INTERVAL_MS / 1000} s (Prometheus scrapes every 15 s by default:`,
    'this is three times as often), beside the two scrapes that open and close the window (outside its CPU time). Per-point',
    'metrics (`gridkeeper_point_value`, `gridkeeper_point_age_seconds`) are on, as they are whenever HTTP is. A stream\'s',
    "first event carries the charts' history as the agent has it then: here less than a minute of it, since the agent",
    'started shortly before. Measured apart, in the bench process as CPU time (`process.cpuUsage`: on a shared machine a',
    "wall clock measures the neighbours too) with the agent's own classes over real driver readings",
    '(tools/bench/page-cost.ts): the `/metrics` render, the first event with the full 15 minutes of history, and one push.',
    '',
    '| devices | streams | events/s per stream (min–max) | longest gap | received per stream | first event (max) | first event, request to last byte (p50 / max) | /metrics scrapes | scrape p50 / max | /metrics size | page clients CPU |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...runs.map(
      (r) =>
        `| ${r.devices} | ${r.page.streams} | ${r.page.minEventsPerSecond.toFixed(2)}–${r.page.maxEventsPerSecond.toFixed(2)} | ${r.page.maxGapMs.toFixed(0)} ms | ` +
        `${(r.page.bytesPerSecondPerStream / 1024).toFixed(0)} KB/s | ${(r.page.firstEventBytes.max / 1024).toFixed(0)} KB | ` +
        `${r.page.firstEventMs.p50.toFixed(1)} / ${r.page.firstEventMs.max.toFixed(1)} ms | ${r.page.scrapeMs.n}${r.page.failedScrapes > 0 ? ` (${r.page.failedScrapes} failed)` : ''} | ` +
        `${r.page.scrapeMs.p50.toFixed(1)} / ${r.page.scrapeMs.max.toFixed(1)} ms | ${(r.page.scrapeBytes / 1024).toFixed(0)} KB | ${pct(r.pageClientsCoreShare ?? NaN)} |`,
    ),
    '',
    '| devices (measured apart) | one push: CPU / size | status check (4 a second) | first event, 15 min of history: CPU / size | /metrics render: CPU / size |',
    '| --- | --- | --- | --- | --- |',
    ...attribution.page.map(
      (c) =>
        `| ${c.devices} | ${c.pushMs.toFixed(2)} ms / ${(c.pushBytes / 1024).toFixed(0)} KB | ${(c.checkMs * 1000).toFixed(0)} µs | ` +
        `${c.firstEventMs.toFixed(1)} ms / ${(c.firstEventBytes / (1024 * 1024)).toFixed(1)} MB | ${c.metricsMs.toFixed(1)} ms / ${(c.metricsBytes / 1024).toFixed(0)} KB |`,
    ),
  ];
  return { id: '2', title: '2. Scale', figures, method, details: { runs, attribution }, analysis: scaleAnalysis(runs, figures, attribution), error: null };
}

function pct(share: number): string {
  return Number.isNaN(share) ? '—' : `${(share * 100).toFixed(1)} %`;
}
