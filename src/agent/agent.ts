// The daemon: wires the config, the buses and device drivers, one poller per device, the
// ZooKeeper coordination (session, ephemeral nodes, site lock, actuation gate, command queue) and
// the HTTP endpoint. Polling never waits for ZooKeeper: with ZooKeeper down the agent keeps polling
// and serving health, and acts on nothing (the gate stays closed).
// One wall clock for everything a reader sees (CONTRACT.md section 9): `wall`, the local clock
// corrected by ZooKeeper's (learnt from our own writes), stamps readAt, publishedAt, results and
// setpoints and measures the page's and metrics' ages; /healthz and /metrics say how far off the
// local clock is.
import type { Logger } from 'pino';
import { CorrectedClock, systemClock, type Clock } from '../clock.js';
import type { SiteConfig } from '../config/types.js';
import { ServerClock, SiteClient, SiteCoordinator, type SessionState } from '../coordination/index.js';
import type { BusStats } from '../drivers/modbus/bus.js';
import { DeviceCommandHandler } from './command-handler.js';
import { coordinationSettings } from './coordination-settings.js';
import type { DeviceReading } from './device-state.js';
import { HoldWriter } from './hold-writer.js';
import { HttpEndpoint, type Health } from './http.js';
import { AgentMetrics } from './metrics.js';
import { ModbusSide } from './modbus-side.js';
import { ReadingsHistory } from './point-history.js';
import { PointMetrics } from './point-metrics.js';
import { PointUnits } from './point-units.js';
import { PointDeadbands } from './point-deadbands.js';
import { ReadingsPublisher } from './readings.js';
import { ReloadableCommandHandler } from './reloadable-handler.js';
import { SetpointKeeper } from './setpoint-keeper.js';
import { largestTimeoutMs, type ReloadPlan, type RunningSession } from './reload-plan.js';
import { SitePage } from './site-page/routes.js';
import { trimForPage } from './site-page/site-document.js';
import { SiteViewCache } from './site-page/site-view-cache.js';
import { PublishPacer } from './publish-pacer.js';
import { WritePause } from './write-pause.js';

export interface AgentDeps {
  logger: Logger;
  version: string;
  /** The local clock (default the system's); the agent corrects its wall time by ZooKeeper's. */
  clock?: Clock;
}

/** A poll loop is stalled when a device's scheduler has not fired for this many intervals (plus slack). */
const STALL_INTERVALS = 3;
const STALL_SLACK_MS = 2000;

export class Agent {
  /** Bus counters are read when /metrics is scraped. */
  readonly metrics = new AgentMetrics({ busStats: () => this.busStats(), clockOffsetMs: () => this.wall.offsetMs() });
  readonly coordinator: SiteCoordinator;
  private readonly log: Logger;
  /** The local clock: timers and monotonic time (the same as wall's). */
  private readonly clock: Clock;
  /** The wall clock of everything we stamp or age: the local one corrected by ZooKeeper's (the coordinator's ServerClock). */
  readonly wall: CorrectedClock;
  /** The config in force: the file's at start, the effective one after each reload. */
  private current: SiteConfig;
  /** Buses, drivers and pollers; a reload rebuilds what changed (modbus-side.ts). */
  private readonly modbus: ModbusSide;
  /** Command writes: a reload waits for the one in flight and holds new ones off during its swap. */
  private readonly writes = new WritePause();
  private readonly handler: ReloadableCommandHandler;
  /** Writes of held points, one at a time per device (CONTRACT.md section 7). */
  private readonly holdWriter: HoldWriter;
  /** Refreshes, drift checks and watchdogs of held setpoints, while the gate is open. */
  private readonly keeper: SetpointKeeper;
  private readonly units: PointUnits;
  private readonly publisher: ReadingsPublisher;
  private readonly http: HttpEndpoint | null;
  /** gridkeeper_point_value and gridkeeper_point_age_seconds, filled when scraped. */
  readonly pointMetrics: PointMetrics;
  /** The charts' last 15 minutes of every numeric point (site page; kept only while HTTP is on). */
  private readonly history: ReadingsHistory;
  /** The site as ZooKeeper sees it, read only while a page looks (site page). */
  private readonly siteView: SiteViewCache;
  private publishTimer: NodeJS.Timeout | null = null;
  /** When to ask the publisher: right behind the polls (publish-pacer.ts). */
  private readonly pacer: PublishPacer;
  private closing: Promise<void> | null = null;
  private leader = false;

  constructor(config: SiteConfig, deps: AgentDeps) {
    this.log = deps.logger.child({ component: 'agent' });
    this.clock = deps.clock ?? systemClock;
    const serverClock = new ServerClock({ clock: this.clock });
    this.wall = new CorrectedClock(this.clock, serverClock);
    this.current = config;
    this.modbus = new ModbusSide(config, {
      logger: deps.logger,
      metrics: this.metrics,
      clock: this.wall,
      watch: (id, poll) => this.keeper.poll(id, poll),
      polled: (id) => this.pacer.polled(() => this.deviceChanged(id)),
    });
    this.holdWriter = new HoldWriter(config.devices, this.modbus.drivers, {
      logger: deps.logger,
      clock: this.wall,
    });
    this.handler = new ReloadableCommandHandler(new DeviceCommandHandler(config, this.modbus.drivers, this.holdWriter), this.writes);
    // Reads the credentials file: throws CredentialsError for an unusable one, before anything runs.
    this.coordinator = new SiteCoordinator(coordinationSettings(config), {
      logger: deps.logger.child({ component: 'coordination' }),
      handler: this.handler,
      version: deps.version,
      clock: this.clock,
      serverClock,
    });
    this.keeper = new SetpointKeeper({
      devices: config.devices,
      writer: this.holdWriter,
      setpoints: this.coordinator.setpoints,
      gate: this.coordinator.gate,
      negotiatedTimeoutMs: () => this.coordinator.session.negotiatedTimeoutMs,
      registry: this.metrics.registry,
      logger: deps.logger,
      clock: this.clock,
      around: (write) => this.writes.run(write),
    });
    // Deadbands and the alive write (CONTRACT.md section 10), read from the config in force at each tick.
    const deadbands = new PointDeadbands(() => this.current.devices);
    this.publisher = new ReadingsPublisher(
      config.site,
      config.agent.id,
      {
        deadbands: (id) => deadbands.of(id),
        maxIntervalMs: () => this.current.publish.maxIntervalMs,
        intervalMs: () => this.current.publish.intervalMs,
      },
      this.wall,
    );
    this.pacer = new PublishPacer({
      clock: this.clock,
      intervalMs: () => this.current.publish.intervalMs,
      pollsBusy: (withinMs) => this.modbus.pollsBusy(withinMs),
      publish: () => this.publish(),
    });
    this.wall.onCorrected((offsetMs) => this.clockCorrected(offsetMs));
    const units = new PointUnits(config.devices, this.modbus.drivers);
    this.units = units;
    this.pointMetrics = new PointMetrics(this.metrics, { readings: () => this.readings(), units, clock: this.wall });
    this.history = new ReadingsHistory({ readings: () => this.readings(), clock: this.wall });
    // The operator's view of the tree, read on our own session (one client of the tree: SiteClient).
    const operator = new SiteClient(this.coordinator.session, this.coordinator.paths, { clock: this.wall });
    const httpLog = deps.logger.child({ component: 'http' });
    this.siteView = new SiteViewCache({
      // Kept cut to what the page shows: the whole view would hold every agent's parsed readings.
      read: () => operator.view().then((view) => trimForPage(view, this.current.devices)),
      sessionState: () => this.coordinator.state,
      clock: this.clock,
      logger: httpLog,
    });
    const devices = (): SiteConfig['devices'] => this.current.devices;
    const page = new SitePage(
      {
        site: config.site,
        agentId: config.agent.id,
        // The devices of the config in force, read at each render: a reload may change them.
        get devices() {
          return devices();
        },
        health: () => this.health(),
        token: () => this.coordinator.token,
        sessionState: () => this.coordinator.state,
        readings: () => this.readings(),
        statusLine: () => this.modbus.statusLine(),
        units,
        history: this.history,
        view: this.siteView,
        clock: this.wall,
      },
      { logger: httpLog },
    );
    this.http =
      config.http.listen === false
        ? null
        : new HttpEndpoint(config.http.listen, { health: () => this.health(), metrics: this.metrics, logger: httpLog, routes: page });

    this.coordinator.on('state', (state) => this.onSessionState(state));
    this.coordinator.on('leader', (token) => this.onLeadership(true, token));
    this.coordinator.on('follower', (reason) => this.onLeadership(false, reason));
    this.coordinator.on('result', (_name, result) => this.metrics.commands.inc({ status: result.status }));
    this.metrics.setZookeeperState(this.coordinator.state);
  }

  /**
   * Opens the buses and starts polling, then the HTTP endpoint, then coordination (which never
   * waits for ZooKeeper). Throws when the HTTP address cannot be bound.
   */
  async start(): Promise<void> {
    this.modbus.start();
    if (this.http) this.history.start();
    await this.http?.start();
    this.coordinator.start();
    this.keeper.start();
    this.publishTimer = setInterval(() => this.pacer.tick(), this.config.publish.intervalMs);
    this.publishTimer.unref();
    this.log.info(
      { site: this.config.site, agentId: this.config.agent.id, devices: this.config.devices.length, buses: this.config.buses.length },
      'agent started',
    );
  }

  /**
   * The SIGTERM path: stop polling, finish the write in flight and release the lock, close the
   * session (ephemeral nodes vanish at once), close buses and HTTP. Idempotent.
   */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.log.info('agent stopping');
    if (this.publishTimer) clearInterval(this.publishTimer);
    this.pacer.close();
    this.modbus.stopPolling();
    this.history.close();
    this.siteView.close();
    this.keeper.close();
    await this.coordinator.close();
    await Promise.all([this.modbus.close(), this.http?.close()]);
    this.log.info('agent stopped');
  }

  health(): Health {
    const devices: Record<string, string> = {};
    const now = this.clock.monotonicMs();
    let stalled = false;
    for (const p of this.modbus.pollers()) {
      devices[p.device.id] = p.reading.status;
      if (now - p.lastTickMs > STALL_INTERVALS * p.device.pollIntervalMs + STALL_SLACK_MS) stalled = true;
    }
    const zookeeper = this.coordinator.state;
    const allOk = Object.values(devices).every((s) => s === 'ok' || s === 'standby');
    const dup = this.coordinator.duplicateOf;
    const offsetMs = this.wall.offsetMs();
    return {
      status: zookeeper === 'connected' && allOk && !stalled && dup === null ? 'ok' : 'degraded',
      zookeeper,
      leader: this.leader,
      devices,
      ...(dup === null ? {} : { duplicateOf: { host: dup.host, pid: dup.pid, since: dup.since } }),
      clockOffsetMs: offsetMs === null ? null : Math.round(offsetMs),
      stalled,
    };
  }

  /** Readings of every device, by id (for the snapshot and tests), with its fallback timer where one is kept. */
  readings(): Record<string, DeviceReading> {
    const out = this.modbus.readings();
    for (const [id, reading] of Object.entries(out)) out[id] = this.withFallback(id, reading);
    return out;
  }

  /** A device's reading with its fallback timer (setpoint-keeper.ts), as the snapshot carries it. */
  private withFallback(id: string, reading: DeviceReading): DeviceReading {
    const fallback = this.keeper.fallbackOf(id);
    return fallback === undefined ? reading : { ...reading, fallback };
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** The config in force (reload.ts replaces it). */
  get config(): SiteConfig {
    return this.current;
  }

  /** The session timeout the timing rules must hold against now: requested, or granted when less. */
  runningSession(): RunningSession {
    return { sessionTimeoutMs: Math.min(this.current.zookeeper.sessionTimeoutMs, this.coordinator.session.negotiatedTimeoutMs) };
  }

  /**
   * Applies a reload (reload-plan.ts) on the same ZooKeeper session and lock. The command write in
   * flight ends first and none starts until the swap is done; the gate's W is raised before a new
   * bus can carry a write and lowered only once the old buses are closed.
   */
  async reconfigure(plan: ReloadPlan): Promise<void> {
    const next = plan.effective;
    if (this.writes.busy) this.log.info('reload waits for the command write in flight');
    const release = await this.writes.hold();
    try {
      const maxWriteMs = largestTimeoutMs(next.buses);
      this.coordinator.reconfigure({ maxWriteMs: Math.max(maxWriteMs, largestTimeoutMs(this.current.buses)) });
      await this.modbus.apply(next, plan.modbus);
      this.holdWriter.update(next.devices);
      this.keeper.update(next.devices);
      this.handler.use(new DeviceCommandHandler(next, this.modbus.drivers, this.holdWriter));
      this.units.update(next.devices);
      this.coordinator.reconfigure({
        maxWriteMs,
        publishIntervalMs: next.publish.intervalMs,
        commandTtlMs: next.control.commandTtlMs,
        resultsKept: next.control.resultsKept,
        resultsMaxAgeMs: next.control.resultsMaxAgeMs,
      });
      if (next.publish.intervalMs !== this.current.publish.intervalMs && this.publishTimer !== null) {
        clearInterval(this.publishTimer);
        this.publishTimer = setInterval(() => this.pacer.tick(), next.publish.intervalMs);
        this.publishTimer.unref();
      }
      this.current = next;
    } finally {
      release();
    }
  }

  /** Writes a readings snapshot if the publisher finds one worth writing; true when it did. */
  private publish(): boolean {
    // Nothing to hand over before ZooKeeper's clock is known: no snapshot can reach ZooKeeper before
    // our first write there (the agent node's create), which teaches it; stamped before, it would
    // carry the local clock's time.
    if (!this.wall.corrected) return false;
    const snapshot = this.publisher.next(this.leader, this.readings());
    if (snapshot === null) return false;
    this.coordinator.publishReadings(snapshot);
    this.metrics.publishes.inc();
    return true;
  }

  /** The reading of one device (with its fallback timer) differs from the last snapshot written. */
  private deviceChanged(id: string): boolean {
    const reading = this.modbus.readingOf(id);
    return reading !== undefined && this.publisher.deviceChanged(id, this.withFallback(id, reading));
  }

  /**
   * ZooKeeper's clock became known (at our first write, a moment after connecting): the readAt of
   * the values held now was stamped by the local clock, so it is corrected, and the next publish
   * writes a snapshot even if no value moved, so that none stamped by the wrong clock stays in
   * ZooKeeper until the alive write.
   */
  private clockCorrected(offsetMs: number): void {
    for (const p of this.modbus.pollers()) p.correctReadAt(offsetMs);
    this.publisher.rewrite();
  }

  private onSessionState(state: SessionState): void {
    this.metrics.setZookeeperState(state);
    if (state === 'connected') this.log.info('zookeeper connected');
    else this.log.warn({ zookeeper: state }, state === 'connecting' ? 'zookeeper: connecting' : `zookeeper ${state}: not acting on commands`);
  }

  private onLeadership(leader: boolean, detail: string): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.metrics.leader.set(leader ? 1 : 0);
    if (leader) this.log.info({ token: detail }, 'holding the site lock: acting on commands');
    else this.log.warn({ reason: detail }, 'not holding the site lock: standby');
    this.modbus.setLeader(leader);
    if (this.publish()) this.pacer.wrote();
  }

  /** Counters of the open buses (a leaderOnly bus has none while standby). */
  private busStats(): BusStats[] {
    return this.modbus.busStats();
  }
}
