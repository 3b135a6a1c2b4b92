// `gridkeeper validate --config FILE`: exit 0 with a summary, or 78 with one line per problem.
import { parseArgs } from 'node:util';
import { loadConfigOrReport } from './config-file.js';
import { credentialsFileFindings } from './credentials-check.js';
import { keptRegisters } from '../agent/hold-plan.js';
import { estimateSnapshotBytes } from '../config/snapshot-size.js';
import type { BusConfig, DeviceConfig, SiteConfig } from '../config/types.js';
import { EXIT, UsageError, type CliIO } from './io.js';

const USAGE = 'usage: gridkeeper validate --config FILE';

export async function validateCommand(args: string[], io: CliIO): Promise<number> {
  let values: { config?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  if (values.help === true) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  if (values.config === undefined || values.config === '') throw new UsageError(`--config FILE is required\n${USAGE}`);

  const config = loadConfigOrReport(values.config, io, { extraChecks: credentialsFileFindings });
  if (config === null) return EXIT.config;
  for (const line of summary(config)) io.stdout(line);
  return EXIT.ok;
}

/** One screen: the site, where it reports, its buses and devices. */
export function summary(cfg: SiteConfig): string[] {
  const zk = cfg.zookeeper;
  const lines = [
    `${cfg.file}: valid`,
    `site        ${cfg.site}`,
    `agent       ${cfg.agent.id}`,
    `zookeeper   ${zk.connect}  root ${zk.root}  session timeout ${zk.sessionTimeoutMs} ms${zk.auth ? '  digest auth' : ''}`,
    `publish     every ${cfg.publish.intervalMs} ms at most, ${describeDeadbands(cfg)}, unchanged every ${cfg.publish.maxIntervalMs} ms, ` +
      `snapshot at most ~${estimateSnapshotBytes(cfg)} bytes`,
    `control     command TTL ${cfg.control.commandTtlMs} ms, verify writes ${cfg.control.verifyWrites ? 'on' : 'off'}, ` +
      `results kept ${cfg.control.resultsKept} for ${describeAge(cfg.control.resultsMaxAgeMs)} at most`,
    `http        ${cfg.http.listen === false ? 'off' : cfg.http.listen}`,
    `buses (${cfg.buses.length}):`,
  ];
  const busWidth = Math.max(0, ...cfg.buses.map((b) => b.id.length));
  for (const bus of cfg.buses) {
    const n = cfg.devices.filter((d) => d.bus === bus.id).length;
    const flags = bus.leaderOnly ? '  leader only' : '';
    lines.push(`  ${bus.id.padEnd(busWidth)}  ${describeBus(bus)}  timeout ${bus.timeoutMs} ms  pause ${bus.pauseMs} ms  ${plural(n, 'device')}${flags}`);
  }
  lines.push(`devices (${cfg.devices.length}):`);
  const devWidth = Math.max(0, ...cfg.devices.map((d) => d.id.length));
  for (const d of cfg.devices) {
    // Registers the lock holder keeps written itself (revert timers, the watchdog) take no commands.
    const kept = keptRegisters(d);
    const writable = d.points.filter((p) => p.access !== 'read' && !kept.has(p.name)).map((p) => p.name);
    if (d.sunspec !== undefined) writable.push('the controls its models offer');
    lines.push(
      `  ${d.id.padEnd(devWidth)}  ${d.kind.padEnd(8)}  bus ${d.bus.padEnd(busWidth)}  unit ${String(d.unitId).padEnd(3)}  ` +
        `${plural(d.points.length, 'point')}${d.profile ? ` (profile ${d.profile})` : ''}${describeSunSpec(d)}  every ${d.pollIntervalMs} ms  ` +
        `writable: ${writable.length > 0 ? writable.join(', ') : 'none'}${describeHeld(d)}`,
    );
  }
  return lines;
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** `deadbands on 31 of 40 points` (CONTRACT.md section 10): how many numeric moves may go unpublished. */
function describeDeadbands(cfg: SiteConfig): string {
  const points = cfg.devices.flatMap((d) => d.points);
  const banded = points.filter((p) => (p.deadband ?? 0) > 0).length;
  return banded === 0 ? 'every change published' : `deadbands on ${banded} of ${plural(points.length, 'point')}`;
}

/** `7 d`, `12 h`, `90 s`: control.resultsMaxAgeMs as people read it. */
function describeAge(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}`;
  }
  return `${ms} ms`;
}

/** `  held: activePowerLimit (falls back to 100 after 60 s)`: points whose commands are held (CONTRACT.md section 7). */
function describeHeld(d: DeviceConfig): string {
  const held = d.points.flatMap((p) => {
    if (p.fallback === undefined) return [];
    const after = p.fallback.revertTimer === undefined ? 'by watchdog' : `after ${p.fallback.revertTimer.seconds} s`;
    return [`${p.name} (falls back to ${String(p.fallback.value)} ${after})`];
  });
  if (d.sunspec !== undefined) held.push(`its controls (revert after ${d.sunspec.revertSeconds} s)`);
  const watchdog = d.watchdog === undefined ? '' : `  watchdog: ${d.watchdog.point} every ${d.watchdog.everyMs} ms`;
  return (held.length > 0 ? `  held: ${held.join(', ')}` : '') + watchdog;
}

/** What a SunSpec device will look for at run time: ` + discovered at auto, chain device 1, needs 1, 103`. */
function describeSunSpec(d: DeviceConfig): string {
  const s = d.sunspec;
  if (s === undefined) return '';
  const needs = s.models.length > 0 ? `, needs models ${s.models.join(', ')}` : '';
  return ` + discovered at ${s.baseAddress}, chain device ${s.index}${needs}`;
}

function describeBus(bus: BusConfig): string {
  if (bus.type === 'tcp') return `tcp ${bus.host}:${bus.port}`;
  const parity = bus.parity === 'none' ? 'N' : bus.parity === 'even' ? 'E' : 'O';
  return `rtu ${bus.path} ${bus.baudRate} ${bus.dataBits}${parity}${bus.stopBits}`;
}
