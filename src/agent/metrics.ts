import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BusStats } from '../drivers/modbus/bus.js';
import { familyHead, sampleValue } from './metrics-text.js';
import { PollDurations } from './poll-durations.js';

/** What the metrics read at scrape time. */
export interface MetricSources {
  /** The counters of the buses that are open now. */
  busStats(): readonly BusStats[];
  /** ZooKeeper's clock minus the local wall clock, ms; null while unknown. */
  clockOffsetMs(): number | null;
}

const CLOCK_OFFSET = 'gridkeeper_clock_offset_seconds';
const CLOCK_OFFSET_HEAD = familyHead(
  CLOCK_OFFSET,
  "ZooKeeper's clock minus the local wall clock, in seconds (positive: the local clock is behind); every time the agent writes is corrected by it",
  'gauge',
);

/**
 * The agent's Prometheus metrics, on a registry of its own (no global state: two agents in one
 * test process keep separate numbers). Every name starts with `gridkeeper_`. Counters that live
 * elsewhere (the buses') are copied into their gauges when /metrics is scraped, not by a timer.
 */
export class AgentMetrics {
  readonly registry = new Registry();

  /** A histogram per device, written apart from the registry (poll-durations.ts). */
  readonly pollDuration = new PollDurations(
    'gridkeeper_poll_duration_seconds',
    'Duration of one device poll (all its read requests), in seconds',
    // From 0.5 ms: a poll over loopback or a LAN takes about a millisecond, so p50 needs fine buckets.
    [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  );

  readonly pollLateness = new Histogram({
    name: 'gridkeeper_poll_start_delay_seconds',
    help: 'How late a poll started after its scheduled time, in seconds',
    // 0.5 s is where the poller's own on-time count ends for the default 1 s interval (half an interval).
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly pollOverruns = new Counter({
    name: 'gridkeeper_poll_overruns_total',
    help: 'Polls skipped because the previous poll of the device was still running',
    labelNames: ['device'] as const,
    registers: [this.registry],
  });

  readonly polls = new Counter({
    name: 'gridkeeper_polls_total',
    help: 'Device polls by result (ok, error)',
    labelNames: ['device', 'result'] as const,
    registers: [this.registry],
  });

  readonly deviceUp = new Gauge({
    name: 'gridkeeper_device_up',
    help: '1 when the last poll of the device succeeded, 0 otherwise (pending, error, standby)',
    labelNames: ['device', 'kind', 'bus'] as const,
    registers: [this.registry],
  });

  readonly modbusRequests: Gauge<'bus'> = new Gauge({
    name: 'gridkeeper_modbus_requests_total',
    help: 'Modbus requests sent on a bus since start',
    labelNames: ['bus'] as const,
    registers: [this.registry],
    collect: () => {
      for (const s of this.sources.busStats()) this.modbusRequests.set({ bus: s.busId }, s.requests);
    },
  });

  readonly modbusErrors: Gauge<'bus' | 'kind'> = new Gauge({
    name: 'gridkeeper_modbus_errors_total',
    help: 'Modbus requests on a bus that failed, by kind (timeout, exception, transport, bad_response)',
    labelNames: ['bus', 'kind'] as const,
    registers: [this.registry],
    collect: () => {
      for (const s of this.sources.busStats()) {
        for (const [kind, n] of Object.entries(s.errors)) this.modbusErrors.set({ bus: s.busId, kind }, n);
      }
    },
  });

  readonly zookeeperState = new Gauge({
    name: 'gridkeeper_zookeeper_state',
    help: '1 for the current ZooKeeper session state, 0 for the others',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: 'gridkeeper_leader',
    help: '1 while this agent holds the site lock',
    registers: [this.registry],
  });

  readonly commands = new Counter({
    name: 'gridkeeper_commands_total',
    help: 'Commands handled by this agent, by result status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly publishes = new Counter({
    name: 'gridkeeper_readings_published_total',
    help: 'Readings snapshots written to ZooKeeper',
    registers: [this.registry],
  });

  /** Families written apart from the registry at scrape time (a series per device or per point: metrics-text.ts). */
  private readonly textFamilies: Array<() => string[]> = [];

  /** Without sources (a benchmark of the poll path), the bus gauges stay empty. */
  constructor(private readonly sources: MetricSources = { busStats: () => [], clockOffsetMs: () => null }) {
    // Event-loop lag sampled every 100 ms, not prom-client's default 10 ms: enough for a dashboard,
    // and an idle gateway should not wake up a hundred times a second to measure itself.
    collectDefaultMetrics({ register: this.registry, prefix: 'gridkeeper_process_', eventLoopMonitoringPrecision: 100 });
    this.addTextFamilies(() => this.pollDuration.textPieces());
    // Written here rather than as a prom-client Gauge: one without labels always has a sample (0
    // before it is set), and an offset not yet measured is no sample, not 0.
    this.addTextFamilies(() => {
      const offsetMs = this.sources.clockOffsetMs();
      return [offsetMs === null ? CLOCK_OFFSET_HEAD : `${CLOCK_OFFSET_HEAD}\n${CLOCK_OFFSET} ${sampleValue(offsetMs / 1000)}`];
    });
    for (const s of ['connecting', 'connected', 'suspended', 'lost']) this.zookeeperState.set({ state: s }, 0);
    this.leader.set(0);
  }

  /** Adds the families `render` writes (Prometheus text in pieces, no final newline) to every scrape. */
  addTextFamilies(render: () => string[]): void {
    this.textFamilies.push(render);
  }

  /** The body of GET /metrics (content type: registry.contentType). */
  async text(): Promise<string> {
    return (await this.textPieces()).join('');
  }

  /**
   * text() in pieces of tens of KB, to be written one after the other: at 500 devices the body is
   * 1.2 MB, and a string or buffer that large gets fresh pages from V8 and malloc at every scrape
   * (hundreds of page faults, each a trip through the hypervisor on a virtual gateway).
   */
  async textPieces(): Promise<string[]> {
    const pieces = [await this.registry.metrics()]; // ends in a newline
    this.textFamilies.forEach((render, i) => pieces.push(i === 0 ? '\n' : '\n\n', ...render()));
    pieces.push('\n');
    return pieces;
  }

  setZookeeperState(state: string): void {
    for (const s of ['connecting', 'connected', 'suspended', 'lost']) this.zookeeperState.set({ state: s }, s === state ? 1 : 0);
  }
}
