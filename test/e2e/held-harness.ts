// Shared pieces of the held-setpoint end-to-end tests (CONTRACT.md section 7): a site whose inverter
// holds its limit on an 8 s revert timer (the simulator's own timer, in real time), and an
// independent Modbus client that watches the device as a third party would (what the register holds,
// what the inverter puts out) and can write into it like another EMS.
//
// Timing of these sites (config/fallback-timing.ts): window R = 8 s, session timeout T = 3 s, polls
// p = 300 ms: 2R/3 = 5333 ms > T + 2p + 1 s = 4600 ms; the holder refreshes every R/3 - p = 2367 ms.
import { afterEach } from 'vitest';
import type { ModbusRTU } from 'modbus-serial/ModbusRTU.js';
import { killAllChildren } from '../../tools/devtools/processes.js';
import type { ZkServer } from '../../tools/devtools/zookeeper.js';
import { ModbusClient } from '../simulator/support.js';
import { E2eSite, e2eSuite, LIMIT_REGISTER, type WriteLogEntry } from './harness.js';

export const WINDOW_S = 8;
export const WINDOW_MS = WINDOW_S * 1000;
export const T_MS = 3000;
export const POLL_MS = 300;
/** Refresh interval of the limit: R/3 - p. */
export const REFRESH_MS = Math.floor(WINDOW_MS / 3) - POLL_MS;
/** The inverter's revert timer register (profiles/generic-inverter.yaml). */
export const TIMER_REGISTER = 108;
/** wt-1's watchdog register (an extra point of the test site). */
export const HEARTBEAT_REGISTER = 200;
/** 100 % in the limit register (uint16, 0.1 % steps). */
export const UNLIMITED_RAW = 1000;

/** inv-1's limit as the profile has it, but on an 8 s window (a device point replaces the profile point whole). */
const LIMIT_POINT = {
  name: 'activePowerLimit',
  table: 'holding',
  address: LIMIT_REGISTER,
  type: 'uint16',
  scale: 0.1,
  unit: '%',
  access: 'readwrite',
  min: 0,
  max: 100,
  fallback: { value: 100, revertTimer: { point: 'activePowerLimitRevertS', seconds: WINDOW_S } },
};

/** The site: inv-1 holding its limit on an 8 s window; with `watchdog`, wt-1 has a heartbeat register kept written every 8 s / 3. */
export function heldSite(zkConnect: string, opts: { watchdog?: boolean } = {}): Promise<E2eSite> {
  const wt1 = opts.watchdog
    ? {
        points: [{ name: 'heartbeat', table: 'holding', address: HEARTBEAT_REGISTER, type: 'uint16', access: 'readwrite', min: 0, max: 65535 }],
        watchdog: { point: 'heartbeat', everyMs: WINDOW_MS },
      }
    : {};
  return E2eSite.start({
    zkConnect,
    sessionTimeoutMs: T_MS,
    pollIntervalMs: POLL_MS,
    // Bus fit: one refresh round (1 write) × 400 ms, well inside the refresh interval; and <= T/4.
    busTimeoutMs: 400,
    deviceKeys: { 'inv-1': { points: [LIMIT_POINT] }, 'wt-1': wt1 },
  });
}

/** The shared set-up of a held-setpoint e2e file (call at its top). */
export interface HeldSuite {
  /** The file's ZooKeeper (tickTime 200 ms), started before its first test. */
  readonly zk: ZkServer;
  /** A DeviceWatch of `site`, closed after the test. */
  watch(site: E2eSite): Promise<DeviceWatch>;
}

/** e2eSuite's ZooKeeper (tickTime 200 ms); after each test, its watches closed and every child process killed. */
export function heldSuite(): HeldSuite {
  const suite = e2eSuite({ tickTimeMs: 200 });
  const watches: DeviceWatch[] = [];
  afterEach(async () => {
    await Promise.all(watches.splice(0).map((w) => w.close()));
    await killAllChildren();
  });
  return {
    get zk(): ZkServer {
      return suite.zk;
    },
    async watch(site: E2eSite): Promise<DeviceWatch> {
      const w = await DeviceWatch.start(site);
      watches.push(w);
      return w;
    },
  };
}

/** Writes to one register of one unit, as the simulator logged them. */
export function registerWrites(site: E2eSite, unitId: number, address: number): WriteLogEntry[] {
  return site.writes().filter((w) => w.unitId === unitId && w.table === 'holding' && w.address === address);
}

/** One look at inv-1 by the watcher. */
export interface Sample {
  atMs: number;
  /** The limit register, raw (0.1 %). */
  limitRaw: number;
  /** activePower, W (input 0 × 10^W_SF). */
  powerW: number;
}

/**
 * A third-party Modbus TCP client of the simulator: samples inv-1 every `everyMs`, and writes into
 * its registers like another EMS would.
 */
export class DeviceWatch {
  readonly samples: Sample[] = [];
  private readonly client: ModbusRTU = new ModbusClient();
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  private constructor(private readonly everyMs: number) {}

  static async start(site: E2eSite, everyMs = 100): Promise<DeviceWatch> {
    const w = new DeviceWatch(everyMs);
    await w.client.connectTCP('127.0.0.1', { port: site.modbusPort });
    w.client.setTimeout(2000);
    w.client.setID(1);
    w.timer = setInterval(() => void w.sample(), w.everyMs);
    return w;
  }

  /** Writes `raw` into inv-1's register `address` (FC6), as another Modbus client. */
  async write(address: number, raw: number): Promise<number> {
    while (this.busy) await new Promise((r) => setTimeout(r, 5));
    this.busy = true;
    try {
      await this.client.writeRegister(address, raw);
      return Date.now();
    } finally {
      this.busy = false;
    }
  }

  /** Samples taken at or after `fromMs`. */
  since(fromMs: number): Sample[] {
    return this.samples.filter((s) => s.atMs >= fromMs);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await new Promise<void>((resolve) => this.client.close(() => resolve()));
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const limit = await this.client.readHoldingRegisters(LIMIT_REGISTER, 1);
      const power = await this.client.readInputRegisters(0, 2);
      const raw = power.data[0] ?? 0;
      const signed = raw >= 0x8000 ? raw - 0x10000 : raw;
      this.samples.push({ atMs: Date.now(), limitRaw: limit.data[0] ?? -1, powerW: signed * 10 ** (power.data[1] ?? 0) });
    } catch {
      // a missed sample is only a gap
    } finally {
      this.busy = false;
    }
  }
}

/** The value of a Prometheus series in `text`, 0 when absent. */
export function metric(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
