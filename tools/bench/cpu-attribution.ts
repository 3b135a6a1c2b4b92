// Where an agent's CPU goes beyond the plain loop's, measured piece by piece on this machine so that
// RESULTS.md can say why a CPU target is missed with this run's numbers:
//  - driver work per poll without the wire (plan, slicing, decoding), DeviceDriver.poll() over an
//    in-memory unit that answers from a frozen SimulatedDevice's registers;
//  - Prometheus bookkeeping per poll (the updates DevicePoller makes, on series bound once);
//  - one publish of the readings snapshot (serialised once, as ReadingsPublisher does);
//  - the fixed cost of the agent's high-frequency timers, in an otherwise idle Node.js process;
//  - the site page's event pushes and the /metrics render (page-cost.ts).
import { pino } from 'pino';
import { AgentMetrics } from '../../src/agent/metrics.js';
import { ReadingsPublisher } from '../../src/agent/readings.js';
import type { PointValue, SiteConfig, Table } from '../../src/config/types.js';
import { spawnChild } from '../devtools/processes.js';
import type { UnitHandle } from '../../src/drivers/modbus/bus.js';
import { DeviceDriver } from '../../src/drivers/device/device-driver.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { pageCost, type PageCost } from './page-cost.js';

export interface Attribution {
  driverUsPerPoll: number;
  metricsUsPerPoll: number;
  /** One publish of a snapshot of `publishDevices` devices. */
  publishMs: number;
  publishDevices: number;
  /** Share of one core an idle process spends on a 20 ms setInterval and event-loop delay monitors at 10 and 20 ms. */
  timersCoreShare: number;
  /** The site page and /metrics at each size measured (the first n devices of `config`). */
  page: PageCost[];
}

const ROUNDS = 20;

export async function attributeCpu(config: SiteConfig, sizes: readonly number[]): Promise<Attribution> {
  const sim = new SimulatedSite(config, { ...frozenOptions(), logger: pino({ level: 'silent' }) }); // not started: registers only
  const logger = pino({ level: 'silent' });
  const drivers = config.devices.map((d) => {
    const device = sim.device(d.id);
    const unit: UnitHandle = {
      busId: d.bus,
      unitId: d.unitId,
      device: d.id,
      read: (table: Table, address: number, count: number) => Promise.resolve(device.registers(table, address, count)),
      writeRegisters: () => Promise.reject(new Error('read only')),
      writeCoil: () => Promise.reject(new Error('read only')),
    };
    return new DeviceDriver(d, unit, { logger, verifyWrites: false });
  });
  const readings: Record<string, unknown> = {};
  for (const driver of drivers) readings[driver.id] = { values: await driver.poll() }; // warm-up, and the snapshot's values
  let t0 = performance.now();
  for (let r = 0; r < ROUNDS; r++) for (const driver of drivers) await driver.poll();
  const driverUsPerPoll = ((performance.now() - t0) * 1000) / (ROUNDS * drivers.length);

  const metrics = new AgentMetrics();
  // As DevicePoller does it: each device's series bound once, device_up set only on a change.
  const series = config.devices.map((d) => ({
    ok: metrics.polls.labels({ device: d.id, result: 'ok' }),
    duration: metrics.pollDuration.labels({ device: d.id }),
  }));
  t0 = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of series) {
      metrics.pollLateness.observe(0.001);
      s.ok.inc();
      s.duration.observe(0.002);
    }
  }
  const metricsUsPerPoll = ((performance.now() - t0) * 1000) / (ROUNDS * config.devices.length);

  const devices = Object.fromEntries(
    config.devices.map((d) => [
      d.id,
      { kind: d.kind, status: 'ok' as const, readAt: new Date().toISOString(), values: (readings[d.id] as { values: Record<string, PointValue> }).values, error: null },
    ]),
  );
  const publisher = new ReadingsPublisher(config.site, config.agent.id);
  t0 = performance.now();
  for (let r = 0; r < ROUNDS; r++) {
    const first = devices[config.devices[0]!.id]!;
    first.values = { ...first.values, bench: r }; // a change past any deadband, as a moving value brings
    Buffer.from(publisher.next(true, devices) ?? '');
  }
  const publishMs = (performance.now() - t0) / ROUNDS;
  // The values as polled (the publish rounds above added a point to the first device).
  const values = new Map(config.devices.map((d) => [d.id, (readings[d.id] as { values: Record<string, PointValue> }).values]));
  const page: PageCost[] = [];
  for (const n of sizes) page.push(await pageCost({ ...config, devices: config.devices.slice(0, n) }, values));
  return { driverUsPerPoll, metricsUsPerPoll, publishMs, publishDevices: config.devices.length, timersCoreShare: await timersCost(), page };
}

const TIMERS_SCRIPT = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
setInterval(() => {}, 20);
monitorEventLoopDelay({ resolution: 100 }).enable();
setTimeout(() => {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  setTimeout(() => { const c = process.cpuUsage(c0); console.log(JSON.stringify({ share: (c.user + c.system) / 1000 / (performance.now() - t0) })); process.exit(0); }, 4000);
}, 500);`;

/** CPU of the timers the agent runs whatever its load (see RESULTS.md), in a process of their own. */
async function timersCost(): Promise<number> {
  const child = spawnChild(process.execPath, ['-e', TIMERS_SCRIPT], { label: 'timer cost probe' });
  try {
    const line = await child.waitForLine(/^\{/, 15_000);
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && 'share' in parsed && typeof parsed.share === 'number' ? parsed.share : NaN;
  } finally {
    await child.stop(2000);
  }
}
