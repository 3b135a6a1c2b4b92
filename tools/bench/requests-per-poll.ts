// 1. Requests per poll: for each built-in profile, the Modbus requests one poll takes with the read
// planner against one request per point. Computed from the plan (ReadPlan on loadProfile), then
// confirmed on the wire: a DeviceDriver polls a simulated device once through a counting proxy, and
// a naive client reads the same points one request each through the same proxy.
import { pino } from 'pino';
import { loadProfile, profileNames } from '../../src/config/profiles.js';
import type { PointConfig } from '../../src/config/types.js';
import { freePort } from '../devtools/ports.js';
import { makeTempDir } from '../devtools/temp-dirs.js';
import { Bus } from '../../src/drivers/modbus/bus.js';
import { pointWidth } from '../../src/config/point-width.js';
import { DeviceDriver } from '../../src/drivers/device/device-driver.js';
import { ReadPlan } from '../../src/drivers/device/planner.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { MbapCounter } from './mbap-counter.js';
import { figure, type Figure, type Section } from './report.js';
import { readSite, writeSite } from './site-config.js';

const MIN_POINTS_FOR_TARGET = 10;
const TARGET_FACTOR = 5;

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
    devices: names.map((profile, i) => ({ id: profile, bus: 'lan', unitId: i + 1, profile, kind: 'other', pollIntervalMs: 1000 })),
  });
  const config = readSite(file);
  const logger = pino({ level: 'silent' });
  const site = new SimulatedSite(config, { ...frozenOptions(), logger });
  const counter = new MbapCounter({ host: '127.0.0.1', port: simPort });
  let bus: Bus | null = null;
  const counts: ProfileCount[] = [];
  try {
    await site.start();
    const proxyPort = await counter.start();
    const busConfig = config.buses[0];
    if (busConfig === undefined || busConfig.type !== 'tcp') throw new Error('unreachable: the generated site has one TCP bus');
    bus = new Bus({ ...busConfig, port: proxyPort }, { logger });
    bus.start();
    for (const device of config.devices) {
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
  return section(counts);
}

function section(counts: ProfileCount[]): Section {
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
  const analysis =
    mismatches.length === 0
      ? ['The counts on the wire equal the computed ones for every profile.']
      : [`The wire and the plan disagree for ${mismatches.map((c) => c.profile).join(', ')}: the driver split a read after an exception 2, or a request was retried.`];
  return { id: '1', title: '1. Requests per poll', figures, method, details: { profiles: counts }, analysis, error: null };
}
