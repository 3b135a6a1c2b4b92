// Which points make readings snapshots, per generic profile: one simulated device of each profile,
// stepped in this process on a fake clock (a real-length day from a pinned time of day, physics every
// 200 ms as `simulate` runs it, warmed up over the 10 minutes before as fleet-simulator.ts does), read
// every poll as an agent reads it (the values the registers serve)
// and fed to the product's ReadingsPublisher twice: with the profile's deadbands, and with none
// (today's behaviour). A poll whose values moved past their band is counted against each point that
// did, so the table says which points cost the writes. No ZooKeeper, no sockets: a few ms of CPU.
import { pino } from 'pino';
import type { DeviceReading } from '../../src/agent/device-state.js';
import { movedPastDeadband } from '../../src/agent/deadband.js';
import { ReadingsPublisher } from '../../src/agent/readings.js';
import { parseConfig } from '../../src/config/load.js';
import type { DeviceConfig, PointValue } from '../../src/config/types.js';
import { SimulatedSite } from '../../src/simulator/index.js';
import { GENERIC_PROFILES } from './site-config.js';

const TICK_MS = 200;
const DAY_MS = 86_400_000;
const WARM_UP_MS = 10 * 60_000;

export interface TriggerOptions {
  /** Simulated time of day at the start, hours (10 = 10:00, the sun two thirds up). */
  startHour: number;
  polls: number;
  pollIntervalMs: number;
  maxIntervalMs: number;
}

export interface ProfileTriggers {
  profile: string;
  /** Snapshots per second of one agent polling this one device, with the profile's deadbands. */
  perSecond: number;
  /** The same without deadbands (every change). */
  baselinePerSecond: number;
  /** Of the polls that made a snapshot with deadbands, the share each point moved past its band in. */
  byPoint: { point: string; deadband: number; share: number }[];
}

export function profileTriggers(opts: TriggerOptions): ProfileTriggers[] {
  return GENERIC_PROFILES.map((g) => oneProfile(g.profile, g.kind, opts));
}

function oneProfile(profile: string, kind: string, opts: TriggerOptions): ProfileTriggers {
  const yaml = `site: triggers\nzookeeper: { connect: "127.0.0.1:1" }\nbuses: [{ id: lan, type: tcp, host: 127.0.0.1, port: 1 }]\n` +
    `devices: [{ id: d, kind: ${kind}, bus: lan, profile: ${profile}, pollIntervalMs: ${opts.pollIntervalMs} }]\n`;
  const config = parseConfig(yaml, `${profile}.yaml`);
  const device = config.devices[0] as DeviceConfig;
  let nowMs = Math.floor(Date.now() / DAY_MS) * DAY_MS + opts.startHour * 3_600_000 - WARM_UP_MS;
  const sim = new SimulatedSite(config, { tickMs: 0, clock: () => nowMs, dayLengthMs: DAY_MS, logger: pino({ level: 'silent' }) });
  const simulated = sim.device('d');
  for (let t = 0; t < WARM_UP_MS / TICK_MS; t++, nowMs += TICK_MS) simulated.tick();
  const bands = new Map(device.points.flatMap((p) => (p.deadband === undefined ? [] : [[p.name, p.deadband] as const])));
  let monoMs = 0;
  const clock = { monotonicMs: () => monoMs, nowMs: () => nowMs };
  const policy = (withBands: boolean) => ({
    deadbands: () => (withBands ? bands : new Map<string, number>()),
    maxIntervalMs: () => opts.maxIntervalMs,
    intervalMs: () => opts.pollIntervalMs,
  });
  const withBands = new ReadingsPublisher('triggers', 'a', policy(true), clock);
  const without = new ReadingsPublisher('triggers', 'a', policy(false), clock);
  const moved = new Map<string, number>();
  let published: Record<string, PointValue | null> = {};
  let triggered = 0;
  const ticksPerPoll = Math.max(1, Math.round(opts.pollIntervalMs / TICK_MS));
  for (let poll = 0; poll < opts.polls; poll++) {
    for (let t = 0; t < ticksPerPoll; t++) {
      nowMs += opts.pollIntervalMs / ticksPerPoll;
      simulated.tick();
    }
    monoMs += opts.pollIntervalMs;
    const values = Object.fromEntries(device.points.map((p) => [p.name, simulated.value(p.name)]));
    const reading: DeviceReading = { kind: device.kind, status: 'ok', readAt: new Date(nowMs).toISOString(), values, error: null };
    without.next(true, { d: reading });
    if (withBands.next(true, { d: reading }) === null) continue;
    const movers = Object.keys(values).filter((name) => movedPastDeadband(published[name], values[name], bands.get(name) ?? 0));
    if (poll > 0 && movers.length > 0) triggered++;
    for (const name of poll > 0 ? movers : []) moved.set(name, (moved.get(name) ?? 0) + 1);
    published = values;
  }
  void sim.close();
  const seconds = (opts.polls * opts.pollIntervalMs) / 1000;
  return {
    profile,
    // The first snapshot of each is the start, not a cost of the steady state.
    perSecond: (withBands.written - 1) / seconds,
    baselinePerSecond: (without.written - 1) / seconds,
    byPoint: [...moved]
      .map(([point, n]) => ({ point, deadband: bands.get(point) ?? 0, share: triggered === 0 ? 0 : n / triggered }))
      .sort((a, b) => b.share - a.share),
  };
}
