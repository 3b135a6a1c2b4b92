// The agent's Modbus side: one Bus (or LeaderOnlyBus) per configured bus, one driver and one poller
// per device. Built from the config at start; a reload (reload-plan.ts) rebuilds only what changed:
// a bus whose settings changed is closed and gets a new Bus, and every device on it a new driver and
// poller; a changed device gets a new driver and poller on its bus; everything else keeps running
// untouched (its connection, its schedule, its last reading).
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { BusConfig, DeviceConfig, SiteConfig } from '../config/types.js';
import type { Driver, ReadValue } from '../drivers/driver.js';
import { Bus, type BusStats, type UnitHandle } from '../drivers/modbus/bus.js';
import { createDeviceDriver } from '../drivers/site.js';
import type { DeviceReading } from './device-state.js';
import { LeaderOnlyBus } from './leader-only-bus.js';
import type { AgentMetrics } from './metrics.js';
import { DevicePoller } from './poller.js';
import type { ModbusChanges } from './reload-plan.js';

export interface ModbusSideDeps {
  /** The root logger: buses, drivers and pollers get their children of it. */
  logger: Logger;
  metrics: AgentMetrics;
  clock: Clock;
  /** Every poll of a device goes through this (held setpoints' drift checks, setpoint-keeper.ts); default: straight to its driver. */
  watch?: (deviceId: string, poll: () => Promise<Record<string, ReadValue>>) => Promise<Record<string, ReadValue>>;
  /** Called when a poll of the device has ended and its reading is in place (publish-pacer.ts). */
  polled?: (deviceId: string) => void;
}

export class ModbusSide {
  private readonly buses = new Map<string, Bus>();
  private readonly leaderOnlyBuses = new Map<string, LeaderOnlyBus>();
  /** By device id. Shared by reference with the command handler and the point units: kept current in place. */
  private readonly driverMap = new Map<string, Driver>();
  /** By device id, in the config's order (the order of the readings snapshot). */
  private pollerMap = new Map<string, DevicePoller>();
  private verifyWrites: boolean;
  private leader = false;
  private started = false;

  constructor(
    config: SiteConfig,
    private readonly deps: ModbusSideDeps,
  ) {
    this.verifyWrites = config.control.verifyWrites;
    for (const bus of config.buses) this.addBus(bus);
    for (const device of config.devices) this.addDevice(device);
  }

  /** The drivers by device id (a live map: a reload replaces entries in it). */
  get drivers(): ReadonlyMap<string, Driver> {
    return this.driverMap;
  }

  pollers(): IterableIterator<DevicePoller> {
    return this.pollerMap.values();
  }

  /** Opens the buses (leaderOnly ones wait for the lock) and starts polling. */
  start(): void {
    this.started = true;
    for (const bus of this.buses.values()) bus.start();
    const onBus = new Map<string, number>();
    for (const p of this.pollerMap.values()) {
      const slot = onBus.get(p.device.bus) ?? 0;
      onBus.set(p.device.bus, slot + 1);
      p.start(slot);
    }
  }

  /** Leadership changed: a leaderOnly bus opens its port only while we hold the lock. */
  setLeader(leader: boolean): void {
    this.leader = leader;
    for (const bus of this.leaderOnlyBuses.values()) this.follow(bus);
    for (const p of this.pollerMap.values()) p.refresh();
  }

  /** Readings of every device, by id, in the config's order. */
  readings(): Record<string, DeviceReading> {
    const out: Record<string, DeviceReading> = {};
    for (const p of this.pollerMap.values()) out[p.device.id] = p.reading;
    return out;
  }

  /** The reading of one device, or undefined for a device this side does not poll. */
  readingOf(id: string): DeviceReading | undefined {
    return this.pollerMap.get(id)?.reading;
  }

  /**
   * Every device's id, status and error in one string, which changes when any of them does: the
   * site page looks four times a second whether to push (cheaper than building the readings).
   */
  statusLine(): string {
    let line = '';
    for (const p of this.pollerMap.values()) line += `${p.device.id}\u0000${p.reading.status}\u0000${p.reading.error ?? ''}\u0000`;
    return line;
  }

  /** A poll is running, or one is due within `withinMs`: the current round of polls has not ended. */
  pollsBusy(withinMs: number): boolean {
    const nowMs = this.deps.clock.monotonicMs();
    for (const p of this.pollerMap.values()) if (p.busyWithin(nowMs, withinMs)) return true;
    return false;
  }

  /** Counters of the open buses (a leaderOnly bus has none while standby). */
  busStats(): BusStats[] {
    const stats = [...this.buses.values()].map((b) => b.stats());
    for (const b of this.leaderOnlyBuses.values()) {
      const s = b.stats();
      if (s) stats.push(s);
    }
    return stats;
  }

  /**
   * Applies a reload: stops the pollers of removed and rebuilt devices, closes removed and changed
   * buses (a request on the wire finishes first, bounded by timeoutMs; the caller has held the
   * command writes), then opens the new buses and starts the new pollers. Closing before opening
   * matters: a serial port opens once, and many TCP gateways take one connection.
   */
  async apply(next: SiteConfig, changes: ModbusChanges): Promise<void> {
    this.verifyWrites = next.control.verifyWrites;
    for (const id of [...changes.devices.removed, ...changes.devices.rebuilt]) this.removeDevice(id, changes.devices.removed.includes(id));
    await Promise.all([...changes.buses.removed, ...changes.buses.changed].map((id) => this.removeBus(id)));

    const buses = new Map(next.buses.map((b) => [b.id, b]));
    for (const id of [...changes.buses.changed, ...changes.buses.added]) {
      const cfg = buses.get(id);
      if (cfg !== undefined) this.startBus(this.addBus(cfg));
    }
    const devices = new Map(next.devices.map((d) => [d.id, d]));
    for (const id of [...changes.devices.rebuilt, ...changes.devices.added]) {
      const device = devices.get(id);
      if (device === undefined) continue;
      const poller = this.addDevice(device);
      if (this.started) poller.start(next.devices.filter((d) => d.bus === device.bus).indexOf(device));
    }
    // The snapshot lists devices in the file's order.
    this.pollerMap = new Map(next.devices.flatMap((d) => {
      const p = this.pollerMap.get(d.id);
      return p === undefined ? [] : [[d.id, p] as const];
    }));
  }

  /** Stops polling (first step of the shutdown: the buses stay open for the write in flight). */
  stopPolling(): void {
    for (const p of this.pollerMap.values()) p.close();
  }

  /** Closes every bus; a request on the wire finishes first. */
  async close(): Promise<void> {
    this.stopPolling();
    await Promise.all([...[...this.buses.values()].map((b) => b.close()), ...[...this.leaderOnlyBuses.values()].map((b) => b.deactivate())]);
  }

  private addBus(cfg: BusConfig): Bus | LeaderOnlyBus {
    const logger = this.deps.logger.child({ component: 'bus' });
    if (cfg.leaderOnly) {
      const bus = new LeaderOnlyBus(cfg, { logger });
      this.leaderOnlyBuses.set(cfg.id, bus);
      return bus;
    }
    const bus = new Bus(cfg, { logger });
    this.buses.set(cfg.id, bus);
    return bus;
  }

  /** A bus added by a reload: opened now (a leaderOnly one only while we hold the lock). */
  private startBus(bus: Bus | LeaderOnlyBus): void {
    if (!this.started) return;
    if (bus instanceof LeaderOnlyBus) this.follow(bus);
    else bus.start();
  }

  private async removeBus(id: string): Promise<void> {
    const bus = this.buses.get(id);
    const leaderOnly = this.leaderOnlyBuses.get(id);
    this.buses.delete(id);
    this.leaderOnlyBuses.delete(id);
    await Promise.all([bus?.close(), leaderOnly?.deactivate()]);
  }

  private addDevice(device: DeviceConfig): DevicePoller {
    const unit = this.unitFor(device.bus, device.unitId, device.id);
    const driver = createDeviceDriver(device, unit, { logger: this.deps.logger.child({ component: 'driver' }), verifyWrites: this.verifyWrites });
    this.driverMap.set(device.id, driver);
    const watch = this.deps.watch;
    const source = watch === undefined ? driver : { poll: () => watch(device.id, () => driver.poll()) };
    const poller = new DevicePoller(device, source, {
      logger: this.deps.logger.child({ component: 'poller', device: device.id }),
      metrics: this.deps.metrics,
      busId: device.bus,
      // Looked up at each tick: a reload may have replaced the bus.
      active: () => {
        const leaderOnly = this.leaderOnlyBuses.get(device.bus);
        return leaderOnly === undefined || (this.leader && leaderOnly.open);
      },
      clock: this.deps.clock,
      polled: () => this.deps.polled?.(device.id),
    });
    this.pollerMap.set(device.id, poller);
    return poller;
  }

  /** Stops a device's poller and drops its driver; `gone`: it left the config, so its metric series go too. */
  private removeDevice(id: string, gone: boolean): void {
    const poller = this.pollerMap.get(id);
    if (poller === undefined) return;
    poller.close();
    this.pollerMap.delete(id);
    // A rebuilt device keeps its old driver in the map until the new one replaces it: a command
    // checked meanwhile (check() never touches the device) still finds it.
    if (gone) this.driverMap.delete(id);
    const m = this.deps.metrics;
    // device_up carries the bus and kind, which a rebuilt device may change: its new poller binds the new series.
    m.deviceUp.remove({ device: id, kind: poller.device.kind, bus: poller.device.bus });
    if (!gone) return;
    m.pollDuration.remove({ device: id });
    m.pollOverruns.remove({ device: id });
    for (const result of ['ok', 'error']) m.polls.remove({ device: id, result });
  }

  /** Opens (or closes) a leaderOnly bus's port to follow the lock. */
  private follow(bus: LeaderOnlyBus): void {
    if (this.leader) {
      void bus.activate().then(() => {
        if (!this.leader) void bus.deactivate(); // lost again while the previous port was closing
      });
    } else {
      void bus.deactivate();
    }
  }

  private unitFor(busId: string, unitId: number, deviceId: string): UnitHandle {
    const bus = this.buses.get(busId) ?? this.leaderOnlyBuses.get(busId);
    if (!bus) throw new RangeError(`device ${deviceId}: unknown bus ${busId}`); // config checks make this unreachable
    return bus.unit(unitId, deviceId);
  }
}
