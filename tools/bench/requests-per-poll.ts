// 1. Requests per poll: for each built-in profile, the Modbus requests one poll takes with the read
// planner against one request per point. Computed from the plan (ReadPlan on loadProfile), then
// confirmed on the wire: a DeviceDriver polls a simulated device once through a counting proxy, and
// a naive client reads the same points one request each through the same proxy.
// Also a SunSpec inverter (models 1, 103, 120, 121, 123, 160 with 2 modules, as `simulate` serves
// it): discovery requests and time at start, then the requests of one poll against the physical
// floor (registers read / 125, rounded up, per contiguous run of models).
import { pino } from 'pino';
import { loadProfile, profileNames } from '../../src/config/profiles.js';
import type { PointConfig } from '../../src/config/types.js';
import { freePort } from '../devtools/ports.js';
import { makeTempDir } from '../devtools/temp-dirs.js';
import { Bus } from '../../src/drivers/modbus/bus.js';
import { pointWidth } from '../../src/config/point-width.js';
import { DeviceDriver } from '../../src/drivers/device/device-driver.js';
import { discoverChain, type Discovery } from '../../src/drivers/sunspec/discovery.js';
import { SunSpecDriver } from '../../src/drivers/sunspec/sunspec-driver.js';
import { ReadPlan } from '../../src/drivers/device/planner.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { MbapCounter } from './mbap-counter.js';
import { figure, type Figure, type Section } from './report.js';
import { readSite, writeSite } from './site-config.js';

const MIN_POINTS_FOR_TARGET = 10;
const TARGET_FACTOR = 5;

/** The most registers one read request may ask for (Modbus FC3/FC4). */
const MAX_REGISTERS_PER_READ = 125;

interface SunSpecCount {
  models: string;
  /** Requests and wall time of the first poll, which walks the chain (marker, headers) and reads. */
  firstPollRequests: number;
  firstPollMs: number;
  /** Requests and wall time of a steady poll (the layout cached). */
  requestsPerPoll: number;
  steadyPollMs: number;
  /** Registers from the first model header to the end marker, per contiguous run of models. */
  runs: number[];
  floor: number;
}

interface ProfileCount {
  profile: string;
  points: number;
  readablePoints: number;
  plannedComputed: number;
  naiveComputed: number;
  plannedOnWire: number;
  naiveOnWire: number;
  blocks: string[];
}

/** Points a poll reads: what the driver reads (readable points and the scale factors they name). */
function pointsToRead(points: readonly PointConfig[]): PointConfig[] {
  const sfNames = new Set(points.flatMap((p) => (p.scaleFactor === undefined ? [] : [p.scaleFactor])));
  return points.filter((p) => p.access !== 'write' || sfNames.has(p.name));
}

export async function requestsPerPoll(): Promise<Section> {
  const names = profileNames();
  const dir = makeTempDir('bench-rpp');
  const simPort = await freePort();
  const file = writeSite(dir, 'requests', {
    site: 'bench-requests',
    agentId: 'bench',
    zookeeper: '127.0.0.1:2181',
    httpPort: null,
    buses: [{ id: 'lan', port: simPort }],
    devices: [
      ...names.map((profile, i) => ({ id: profile, bus: 'lan', unitId: i + 1, profile, kind: 'other', pollIntervalMs: 1000 })),
      { id: 'sunspec-inverter', bus: 'lan', unitId: names.length + 1, profile: 'sunspec', kind: 'inverter', pollIntervalMs: 1000, sunspec: { baseAddress: 'auto' } },
    ],
  });
  const config = readSite(file);
  const logger = pino({ level: 'silent' });
  const site = new SimulatedSite(config, { ...frozenOptions(), logger });
  const counter = new MbapCounter({ host: '127.0.0.1', port: simPort });
  let bus: Bus | null = null;
  const counts: ProfileCount[] = [];
  let sunspec: SunSpecCount | null = null;
  try {
    await site.start();
    const proxyPort = await counter.start();
    const busConfig = config.buses[0];
    if (busConfig === undefined || busConfig.type !== 'tcp') throw new Error('unreachable: the generated site has one TCP bus');
    bus = new Bus({ ...busConfig, port: proxyPort }, { logger });
    bus.start();
    for (const device of config.devices) {
      if (device.sunspec !== undefined) {
        sunspec = await sunspecCount(new SunSpecDriver(device, bus.unit(device.unitId, device.id), { logger, verifyWrites: false }), counter, device.unitId, bus);
        continue;
      }
      const profile = device.profile ?? device.id;
      const points = loadProfile(profile);
      const toRead = pointsToRead(points);
      const readable = points.filter((p) => p.access !== 'write');
      const plan = new ReadPlan(toRead);
      const unit = bus.unit(device.unitId, device.id);
      const driver = new DeviceDriver(device, unit, { logger, verifyWrites: false });

      counter.reset();
      await driver.poll();
      const plannedOnWire = counter.requests(device.unitId);
      counter.reset();
      for (const p of readable) await unit.read(p.table, p.address, pointWidth(p));
      const naiveOnWire = counter.requests(device.unitId);

      counts.push({
        profile,
        points: points.length,
        readablePoints: readable.length,
        plannedComputed: plan.blocks().length,
        naiveComputed: readable.length,
        plannedOnWire,
        naiveOnWire,
        blocks: plan.blocks().map((b) => `${b.table} ${b.address}+${b.count}`),
      });
    }
  } finally {
    await bus?.close();
    await counter.close();
    await site.close();
  }
  return section(counts, sunspec);
}

async function sunspecCount(driver: SunSpecDriver, counter: MbapCounter, unitId: number, bus: Bus): Promise<SunSpecCount> {
  counter.reset();
  const started = performance.now();
  await driver.poll();
  const firstPollMs = performance.now() - started;
  const firstPollRequests = counter.requests(unitId);
  counter.reset();
  const steadyStarted = performance.now();
  await driver.poll();
  const steadyPollMs = performance.now() - steadyStarted;
  const requestsPerPoll = counter.requests(unitId);
  // The floor, from the chain as the device describes it (walked again here, outside the count).
  const discovery = await discoverChain(bus.unit(unitId, 'floor'), { baseAddress: 'auto' });
  const runs = contiguousRuns(discovery);
  return {
    models: (discovery.devices[0]?.models ?? []).map((m) => m.id).join(', '),
    firstPollRequests,
    firstPollMs,
    requestsPerPoll,
    steadyPollMs,
    runs,
    floor: runs.reduce((sum, n) => sum + Math.ceil(n / MAX_REGISTERS_PER_READ), 0),
  };
}

/** Lengths of the runs of back-to-back models (ID, L and body of each), in registers. */
function contiguousRuns(discovery: Discovery): number[] {
  const runs: number[] = [];
  let end = -1;
  for (const m of discovery.devices.flatMap((d) => d.models)) {
    const size = m.length + 2;
    if (m.start === end && runs.length > 0) runs[runs.length - 1] = (runs[runs.length - 1] ?? 0) + size;
    else runs.push(size);
    end = m.start + size;
  }
  return runs;
}

function section(counts: ProfileCount[], sunspec: SunSpecCount | null): Section {
  const figures: Figure[] = counts.map((c) =>
    figure({
      id: `requests.${c.profile}`,
      label: `${c.profile} (${c.points} points): requests per poll`,
      value: c.plannedOnWire,
      unit: 'requests',
      baseline: { label: 'one request per point', value: c.naiveOnWire },
      target:
        c.points >= MIN_POINTS_FOR_TARGET
          ? { text: `>= ${TARGET_FACTOR}x fewer (<= ${(c.naiveOnWire / TARGET_FACTOR).toFixed(1)})`, op: '<=', limit: c.naiveOnWire / TARGET_FACTOR }
          : null,
    }),
  );
  if (sunspec !== null) {
    figures.push(
      figure({
        id: 'requests.sunspec-inverter',
        label: `SunSpec inverter (models ${sunspec.models}): requests per poll`,
        value: sunspec.requestsPerPoll,
        unit: 'requests',
        baseline: { label: `physical floor (${sunspec.runs.join(' + ')} registers / ${MAX_REGISTERS_PER_READ})`, value: sunspec.floor },
        target: { text: `within one of the floor (<= ${sunspec.floor + 1})`, op: '<=', limit: sunspec.floor + 1 },
      }),
      figure({
        id: 'requests.sunspec-discovery',
        label: `SunSpec inverter: first poll with discovery (${sunspec.firstPollRequests} requests: marker, model chain, reads)`,
        value: Math.round(sunspec.firstPollMs),
        unit: 'ms',
        baseline: { label: 'a steady poll after it', value: Math.round(sunspec.steadyPollMs) },
        target: null,
      }),
    );
  }
  const mismatches = counts.filter((c) => c.plannedComputed !== c.plannedOnWire || c.naiveComputed !== c.naiveOnWire);
  const method = [
    'Computed from the read plan (`ReadPlan` over `loadProfile`), then counted on the wire: a `DeviceDriver`',
    'polled a frozen simulated device once through a Modbus TCP proxy that counts request frames, and a',
    'naive client read each readable point with a request of its own through the same proxy.',
    '',
    '| profile | points | readable | planner (plan / wire) | one per point (computed / wire) | fewer | planned reads |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...counts.map(
      (c) =>
        `| ${c.profile} | ${c.points} | ${c.readablePoints} | ${c.plannedComputed} / ${c.plannedOnWire} | ${c.naiveComputed} / ${c.naiveOnWire} | ${(c.naiveOnWire / c.plannedOnWire).toFixed(1)}x | ${c.blocks.join(', ')} |`,
    ),
  ];
  if (sunspec !== null) {
    method.push(
      '',
      `SunSpec inverter as \`simulate\` serves it (models ${sunspec.models}; 160 with 2 modules), polled by the`,
      '`SunSpecDriver` through the same counting proxy: the first poll walks the chain (marker, then each',
      `model's ID and L) and reads: ${sunspec.firstPollRequests} requests in ${Math.round(sunspec.firstPollMs)} ms on a loopback simulator; a steady poll`,
      `then takes ${sunspec.requestsPerPoll} requests. Floor: the models lie back to back (${sunspec.runs.join(' + ')} registers), and one`,
      `request reads at most ${MAX_REGISTERS_PER_READ} registers, so no poll can take fewer than ${sunspec.floor}.`,
    );
  }
  const analysis =
    mismatches.length === 0
      ? ['The counts on the wire equal the computed ones for every profile.']
      : [`The wire and the plan disagree for ${mismatches.map((c) => c.profile).join(', ')}: the driver split a read after an exception 2, or a request was retried.`];
  return { id: '1', title: '1. Requests per poll', figures, method, details: { profiles: counts, sunspec }, analysis, error: null };
}
