// Every simulated device of a site config, served on its bus: a Modbus TCP server per TCP bus, a
// Modbus RTU slave per RTU bus, and one tick timer driving the physics of all devices.
import { pino, type Logger } from 'pino';
import { systemClock } from '../clock.js';
import type { SiteConfig } from '../config/types.js';
import { RtuModbusServer } from './rtu-server.js';
import { SimulatedDevice } from './simulated-device.js';
import { DEFAULT_RAMP_PCT_PER_S } from './sunspec/model-deps.js';
import type { TimerClock } from './revert-timer.js';
import { TcpModbusServer } from './tcp-server.js';
import type { WriteRecord } from './write-record.js';

/** A simulated day lasts 10 minutes of wall time, so the sun curve visibly moves during a demo. */
export const DEFAULT_DAY_LENGTH_MS = 600_000;
export const DEFAULT_TICK_MS = 200;

export interface SimulatedSiteOptions {
  logger?: Logger;
  /** Physics step interval, ms; 0 freezes time (values stay, written setpoints still act at once). Default 200. */
  tickMs?: number;
  /** Wall clock, ms since the epoch; default Date.now. */
  clock?: () => number;
  /** Wall ms per simulated day; default 600000. Counters (energy, charge) integrate simulated time. */
  dayLengthMs?: number;
  /** Noise seed, mixed with each device id; default 0. */
  seed?: number;
  /** Called for every write a device receives (e.g. to append it to a log file). */
  onWrite?: (record: WriteRecord) => void;
  /** Clock of the devices' own timers (SunSpec revert timers), which run in real time even when frozen; default the system's. */
  timers?: TimerClock;
}

/**
 * Options of a frozen simulator: no physics ticks and a clock stopped at simulated noon, so that two
 * simulators built from the same config serve the same registers (a child process and its twin in a test).
 */
export function frozenOptions(dayLengthMs = DEFAULT_DAY_LENGTH_MS): Pick<SimulatedSiteOptions, 'tickMs' | 'clock' | 'dayLengthMs'> {
  return { tickMs: 0, clock: () => dayLengthMs / 2, dayLengthMs };
}

type Server = TcpModbusServer | RtuModbusServer;

export class SimulatedSite {
  private readonly devices = new Map<string, SimulatedDevice>();
  private readonly tcpServers = new Map<string, TcpModbusServer>();
  private readonly servers: Server[] = [];
  private readonly log: Logger;
  private readonly tickMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: SiteConfig,
    opts: SimulatedSiteOptions = {},
  ) {
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'simulator' });
    this.tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    const clock = { now: opts.clock ?? Date.now, dayLengthMs: opts.dayLengthMs ?? DEFAULT_DAY_LENGTH_MS };
    // Without ticks there is no time to ramp over: outputs jump to a new setpoint at once.
    const rampPctPerS = this.tickMs > 0 ? DEFAULT_RAMP_PCT_PER_S : 0;
    const timers = opts.timers ?? systemClock;
    for (const device of config.devices) {
      const deps = { logger: this.log, clock, seed: opts.seed ?? 0, timers, rampPctPerS, ...(opts.onWrite ? { onWrite: opts.onWrite } : {}) };
      this.devices.set(device.id, new SimulatedDevice(device, deps));
    }
  }

  /** Opens every server; on any failure closes those already open and throws SimulatorBindError. */
  async start(): Promise<void> {
    for (const bus of this.config.buses) {
      const onBus = [...this.devices.values()].filter((d) => d.config.bus === bus.id);
      const server =
        bus.type === 'tcp'
          ? new TcpModbusServer(bus, onBus, { logger: this.log })
          : new RtuModbusServer(bus, onBus, { logger: this.log });
      try {
        await server.start();
      } catch (err) {
        await this.close();
        throw err;
      }
      this.servers.push(server);
      if (server instanceof TcpModbusServer) this.tcpServers.set(bus.id, server);
    }
    if (this.tickMs > 0) {
      this.timer = setInterval(() => {
        for (const d of this.devices.values()) {
          try {
            d.tick();
          } catch (err) {
            this.log.error({ err, device: d.id }, 'physics step failed');
          }
        }
      }, this.tickMs);
    }
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const d of this.devices.values()) d.close();
    const servers = this.servers.splice(0);
    this.tcpServers.clear();
    await Promise.all(servers.map((s) => s.close()));
  }

  device(id: string): SimulatedDevice {
    const d = this.devices.get(id);
    if (d === undefined) throw new RangeError(`no simulated device ${id}`);
    return d;
  }

  allDevices(): SimulatedDevice[] {
    return [...this.devices.values()];
  }

  /** Where the TCP bus `busId` listens (the actual port when its config said 0). */
  tcpAddress(busId: string): { host: string; port: number } {
    const s = this.tcpServers.get(busId);
    if (s === undefined) throw new RangeError(`no started TCP bus ${busId}`);
    return s.address();
  }
}
