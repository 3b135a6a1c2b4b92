// The daemon: wires the config, the buses and device drivers, one poller per device, the
// ZooKeeper coordination (session, ephemeral nodes, site lock, actuation gate, command queue) and
// the HTTP endpoint. Polling never waits for ZooKeeper: with ZooKeeper down the agent keeps polling
// and serving health, and acts on nothing (the gate stays closed).
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.js';
import type { SiteConfig } from '../config/types.js';
import { SiteCoordinator, type SessionState } from '../coordination/index.js';
import type { Driver } from '../drivers/driver.js';
import { Bus, type BusStats, type UnitHandle } from '../drivers/modbus/bus.js';
import { createDeviceDriver } from '../drivers/site.js';
import { DeviceCommandHandler } from './command-handler.js';
import { coordinationSettings } from './coordination-settings.js';
import type { DeviceReading } from './device-state.js';
import { HttpEndpoint, type Health } from './http.js';
import { LeaderOnlyBus } from './leader-only-bus.js';
import { AgentMetrics } from './metrics.js';
import { DevicePoller } from './poller.js';
import { ReadingsPublisher } from './readings.js';

export interface AgentDeps {
  logger: Logger;
  version: string;
  clock?: Clock;
}

/** A poll loop is stalled when a device's scheduler has not fired for this many intervals (plus slack). */
const STALL_INTERVALS = 3;
const STALL_SLACK_MS = 2000;

export class Agent {
  /** Bus counters are read when /metrics is scraped. */
  readonly metrics = new AgentMetrics({ busStats: () => this.busStats() });
  readonly coordinator: SiteCoordinator;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly buses = new Map<string, Bus>();
  private readonly leaderOnlyBuses = new Map<string, LeaderOnlyBus>();
  private readonly drivers = new Map<string, Driver>();
  private readonly pollers: DevicePoller[] = [];
  private readonly publisher: ReadingsPublisher;
  private readonly http: HttpEndpoint | null;
  private publishTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;
  private leader = false;

  constructor(
    readonly config: SiteConfig,
    deps: AgentDeps,
  ) {
    this.log = deps.logger.child({ component: 'agent' });
    this.clock = deps.clock ?? systemClock;
    for (const cfg of config.buses) {
      const logger = deps.logger.child({ component: 'bus' });
      if (cfg.leaderOnly) this.leaderOnlyBuses.set(cfg.id, new LeaderOnlyBus(cfg, { logger }));
      else this.buses.set(cfg.id, new Bus(cfg, { logger }));
    }
    for (const device of config.devices) {
      const unit = this.unitFor(device.bus, device.unitId, device.id);
      const driver = createDeviceDriver(device, unit, { logger: deps.logger.child({ component: 'driver' }), verifyWrites: config.control.verifyWrites });
      this.drivers.set(device.id, driver);
      const leaderOnly = this.leaderOnlyBuses.has(device.bus);
      this.pollers.push(
        new DevicePoller(device, driver, {
          logger: deps.logger.child({ component: 'poller', device: device.id }),
          metrics: this.metrics,
          busId: device.bus,
          active: leaderOnly ? () => this.leader && (this.leaderOnlyBuses.get(device.bus)?.open ?? false) : () => true,
          clock: this.clock,
        }),
      );
    }
    const handler = new DeviceCommandHandler(config, this.drivers);
    // Reads the credentials file: throws CredentialsError for an unusable one, before anything runs.
    this.coordinator = new SiteCoordinator(coordinationSettings(config), {
      logger: deps.logger.child({ component: 'coordination' }),
      handler,
      version: deps.version,
      clock: this.clock,
    });
    this.publisher = new ReadingsPublisher(config.site, config.agent.id);
    this.http =
      config.http.listen === false
        ? null
        : new HttpEndpoint(config.http.listen, { health: () => this.health(), metrics: this.metrics, logger: deps.logger.child({ component: 'http' }) });

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
    for (const bus of this.buses.values()) bus.start();
    const onBus = new Map<string, number>();
    for (const p of this.pollers) {
      const slot = onBus.get(p.device.bus) ?? 0;
      onBus.set(p.device.bus, slot + 1);
      p.start(slot);
    }
    await this.http?.start();
    this.coordinator.start();
    this.publishTimer = setInterval(() => this.publish(), this.config.publish.intervalMs);
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
    for (const p of this.pollers) p.close();
    await this.coordinator.close();
    await Promise.all([
      ...[...this.buses.values()].map((b) => b.close()),
      ...[...this.leaderOnlyBuses.values()].map((b) => b.deactivate()),
      this.http?.close(),
    ]);
    this.log.info('agent stopped');
  }

  health(): Health {
    const devices: Record<string, string> = {};
    const now = this.clock.monotonicMs();
    let stalled = false;
    for (const p of this.pollers) {
      devices[p.device.id] = p.reading.status;
      if (now - p.lastTickMs > STALL_INTERVALS * p.device.pollIntervalMs + STALL_SLACK_MS) stalled = true;
    }
    const zookeeper = this.coordinator.state;
    const allOk = Object.values(devices).every((s) => s === 'ok' || s === 'standby');
    return {
      status: zookeeper === 'connected' && allOk && !stalled ? 'ok' : 'degraded',
      zookeeper,
      leader: this.leader,
      devices,
      stalled,
    };
  }

  /** Readings of every device, by id (for the snapshot and tests). */
  readings(): Record<string, DeviceReading> {
    const out: Record<string, DeviceReading> = {};
    for (const p of this.pollers) out[p.device.id] = p.reading;
    return out;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  private unitFor(busId: string, unitId: number, deviceId: string): UnitHandle {
    const bus = this.buses.get(busId) ?? this.leaderOnlyBuses.get(busId);
    if (!bus) throw new RangeError(`device ${deviceId}: unknown bus ${busId}`); // config checks make this unreachable
    return bus.unit(unitId, deviceId);
  }

  private publish(): void {
    const snapshot = this.publisher.next(this.leader, this.readings());
    if (snapshot === null) return;
    this.coordinator.publishReadings(snapshot);
    this.metrics.publishes.inc();
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
    for (const bus of this.leaderOnlyBuses.values()) {
      if (leader) {
        void bus.activate().then(() => {
          if (!this.leader) void bus.deactivate(); // lost again while the previous port was closing
        });
      } else {
        void bus.deactivate();
      }
    }
    for (const p of this.pollers) p.refresh();
    this.publish();
  }

  /** Counters of the open buses (a leaderOnly bus has none while standby). */
  private busStats(): BusStats[] {
    const stats = [...this.buses.values()].map((b) => b.stats());
    for (const b of this.leaderOnlyBuses.values()) {
      const s = b.stats();
      if (s) stats.push(s);
    }
    return stats;
  }
}
