// One agent measured over a window: polls on time, poll latency, Modbus requests (from the deltas
// of two /metrics scrapes), CPU and RSS (from /proc), and the CPU of other processes beside it.
import type { ChildHandle } from '../devtools/processes.js';
import { sleep } from '../devtools/wait.js';
import { pidOf } from './agent-process.js';
import { bucketDelta, buckets, scrape, sum, type Scrape } from './prometheus.js';
import { CpuWindow, memory, MB, type CpuUse } from './proc.js';
import { histogramQuantile, shareAtOrBelow } from './stats.js';

export interface AgentWindow {
  seconds: number;
  /** Ticks of the poll schedulers in the window (a tick of a device in standby counts too). */
  ticks: number;
  okPolls: number;
  errorPolls: number;
  /** Ticks skipped because the device's previous poll still ran (or the event loop stalled). */
  overruns: number;
  /** Ticks started within 0.5 s of their schedule (half the 1 s interval), over ticks + overruns. */
  onTimeShare: number;
  onTime100msShare: number;
  startDelayP99Ms: number;
  pollP50Ms: number;
  pollP99Ms: number;
  requestsPerSecond: number;
  publishesPerSecond: number;
  coreShare: number;
  systemShare: number;
  rssMB: number;
  peakRssMB: number;
  /** V8 heap in use and reserved, and memory outside the heap (buffers), at the end of the window. */
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  /** How long the closing /metrics scrape took (the agent renders it on its event loop). */
  scrapeMs: number;
  /** CPU of the processes watched beside the agent over the same window, by label. */
  others: Record<string, CpuUse>;
}

const DELAY = 'gridkeeper_poll_start_delay_seconds';
const DURATION = 'gridkeeper_poll_duration_seconds';

export async function measureAgentWindow(
  agent: ChildHandle,
  httpPort: number,
  windowMs: number,
  others: { label: string; pid: number }[] = [],
): Promise<AgentWindow> {
  const url = `http://127.0.0.1:${httpPort}/metrics`;
  const before = await scrape(url);
  const t0 = performance.now();
  const cpu = new CpuWindow(pidOf(agent));
  const otherCpu = others.map((o) => ({ label: o.label, cpu: new CpuWindow(o.pid) }));
  await sleep(windowMs);
  const used = cpu.stop();
  const otherUse = Object.fromEntries(otherCpu.map((o) => [o.label, o.cpu.stop()]));
  const mem = memory(pidOf(agent));
  const scrapeStart = performance.now();
  const after = await scrape(url);
  const scrapeMs = performance.now() - scrapeStart;
  const seconds = (scrapeStart - t0) / 1000;
  return {
    ...fromScrapes(before, after, seconds),
    coreShare: used.coreShare,
    systemShare: used.systemShare,
    rssMB: mem.rssBytes / MB,
    peakRssMB: mem.peakRssBytes / MB,
    heapUsedMB: sum(after, 'gridkeeper_process_nodejs_heap_size_used_bytes') / MB,
    heapTotalMB: sum(after, 'gridkeeper_process_nodejs_heap_size_total_bytes') / MB,
    externalMB: sum(after, 'gridkeeper_process_nodejs_external_memory_bytes') / MB,
    scrapeMs,
    others: otherUse,
  };
}

function fromScrapes(before: Scrape, after: Scrape, seconds: number) {
  const delta = (name: string, match: Record<string, string> = {}): number => sum(after, name, match) - sum(before, name, match);
  const delay = bucketDelta(buckets(before, DELAY), buckets(after, DELAY));
  const duration = bucketDelta(buckets(before, DURATION), buckets(after, DURATION));
  const ticks = delay.find((b) => !Number.isFinite(b.le))?.count ?? 0;
  const overruns = delta('gridkeeper_poll_overruns_total');
  const onTime = ticks === 0 ? NaN : (shareAtOrBelow(delay, 0.5) * ticks) / (ticks + overruns);
  const onTime100 = ticks === 0 ? NaN : (shareAtOrBelow(delay, 0.1) * ticks) / (ticks + overruns);
  return {
    seconds,
    ticks,
    okPolls: delta('gridkeeper_polls_total', { result: 'ok' }),
    errorPolls: delta('gridkeeper_polls_total', { result: 'error' }),
    overruns,
    onTimeShare: onTime,
    onTime100msShare: onTime100,
    startDelayP99Ms: histogramQuantile(delay, 0.99) * 1000,
    pollP50Ms: histogramQuantile(duration, 0.5) * 1000,
    pollP99Ms: histogramQuantile(duration, 0.99) * 1000,
    requestsPerSecond: delta('gridkeeper_modbus_requests_total') / seconds,
    publishesPerSecond: delta('gridkeeper_readings_published_total') / seconds,
  };
}
