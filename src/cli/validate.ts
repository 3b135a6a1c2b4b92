// `gridkeeper validate --config FILE`: exit 0 with a summary, or 78 with one line per problem.
import { parseArgs } from 'node:util';
import { loadConfigOrReport } from './config-file.js';
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

  const config = loadConfigOrReport(values.config, io);
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
    `publish     every ${cfg.publish.intervalMs} ms, snapshot at most ~${estimateSnapshotBytes(cfg)} bytes`,
    `control     command TTL ${cfg.control.commandTtlMs} ms, verify writes ${cfg.control.verifyWrites ? 'on' : 'off'}`,
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
    const writable = d.points.filter((p) => p.access !== 'read').map((p) => p.name);
    if (d.sunspec !== undefined) writable.push('the controls its models offer');
    lines.push(
      `  ${d.id.padEnd(devWidth)}  ${d.kind.padEnd(8)}  bus ${d.bus.padEnd(busWidth)}  unit ${String(d.unitId).padEnd(3)}  ` +
        `${plural(d.points.length, 'point')}${d.profile ? ` (profile ${d.profile})` : ''}${describeSunSpec(d)}  every ${d.pollIntervalMs} ms  ` +
        `writable: ${writable.length > 0 ? writable.join(', ') : 'none'}`,
    );
  }
  return lines;
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

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
