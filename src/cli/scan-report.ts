// What `gridkeeper scan` prints: per unit that answered, its SunSpec base address and per chained
// device manufacturer, model, serial number and models (id, address, length), then a device block
// per device ready to paste under `devices:` of a site file; or the same as one JSON document.
import type { FoundDevice, UnitFinding } from './scan-probe.js';
import { formatUnitList } from './scan-units.js';

export interface ScanResult {
  /** `tcp 192.168.1.50:502` or `rtu /dev/ttyUSB0`. */
  bus: string;
  busType: 'tcp' | 'rtu';
  units: readonly number[];
  timeoutMs: number;
  elapsedMs: number;
  findings: readonly UnitFinding[];
}

/** A `devices:` entry of the site file (CONTRACT.md sections 2 and 6). */
export interface DeviceBlock {
  id: string;
  kind: 'inverter' | 'bms' | 'other';
  bus: string;
  unitId: number;
  profile: 'sunspec';
  sunspec: { baseAddress: number; index: number };
}

/** Placeholder bus ids of the pasted blocks: the operator sets the id of the bus in the site file. */
const BUS_ID = { tcp: 'lan', rtu: 'rs485' } as const;
/** Models that make a device an inverter (single/split/three phase, float variants, DER AC). */
const INVERTER_MODELS: ReadonlySet<number> = new Set([101, 102, 103, 111, 112, 113, 701]);
const STORAGE_MODELS: ReadonlySet<number> = new Set([124, 802]);

export function sunspecDeviceCount(result: ScanResult): number {
  return result.findings.reduce((n, f) => n + (f.status === 'sunspec' ? f.devices.length : 0), 0);
}

/** The blocks to paste: devices with more than model 1 (a data logger's model 1 alone has nothing to poll). */
export function deviceBlocks(result: ScanResult): DeviceBlock[] {
  return pasteable(result).map((p) => p.block);
}

function pasteable(result: ScanResult): Array<{ block: DeviceBlock; device: FoundDevice }> {
  const blocks: Array<{ block: DeviceBlock; device: FoundDevice }> = [];
  for (const f of result.findings) {
    if (f.status !== 'sunspec') continue;
    for (const d of f.devices) {
      if (d.models.every((m) => m.id === 1)) continue;
      const kind = kindOf(d);
      const prefix = kind === 'inverter' ? 'inv' : kind === 'bms' ? 'bat' : 'sunspec';
      const id = f.devices.length > 1 ? `${prefix}-${f.unitId}-${d.index}` : `${prefix}-${f.unitId}`;
      const block: DeviceBlock = { id, kind, bus: BUS_ID[result.busType], unitId: f.unitId, profile: 'sunspec', sunspec: { baseAddress: f.baseAddress, index: d.index } };
      blocks.push({ block, device: d });
    }
  }
  return blocks;
}

export function renderText(result: ScanResult): string[] {
  const lines: string[] = [];
  for (const f of result.findings) {
    switch (f.status) {
      case 'silent':
        break;
      case 'not-sunspec':
        lines.push(`unit ${f.unitId}: ${f.detail}`);
        break;
      case 'error':
        lines.push(`unit ${f.unitId}: answers, but ${f.detail}`);
        break;
      case 'sunspec':
        lines.push(`unit ${f.unitId}: SunSpec, base address ${f.baseAddress}`);
        for (const d of f.devices) lines.push(...describeDevice(d));
        break;
    }
  }
  const answered = result.findings.filter((f) => f.status !== 'silent').length;
  const devices = sunspecDeviceCount(result);
  if (lines.length > 0) lines.push('');
  lines.push(
    `scanned units ${formatUnitList(result.units)} on ${result.bus} in ${(result.elapsedMs / 1000).toFixed(1)} s: ` +
      `${answered} answered, ${devices} SunSpec device${devices === 1 ? '' : 's'}`,
  );
  const blocks = pasteable(result);
  if (blocks.length > 0) {
    lines.push('', `# ready to paste under \`devices:\` of a site file; set \`id\`, and \`bus\` to the id of the bus at ${result.bus}`);
    for (const { block, device } of blocks) lines.push(`  # ${identity(device)}`, ...blockYaml(block));
  }
  return lines;
}

export function renderJson(result: ScanResult): string {
  return JSON.stringify(
    {
      bus: result.bus,
      units: formatUnitList(result.units),
      timeoutMs: result.timeoutMs,
      elapsedMs: Math.round(result.elapsedMs),
      answered: result.findings.filter((f) => f.status !== 'silent'),
      silentUnits: formatUnitList(result.findings.filter((f) => f.status === 'silent').map((f) => f.unitId)),
      sunspecDevices: sunspecDeviceCount(result),
      devices: deviceBlocks(result),
    },
    null,
    2,
  );
}

/** The one line of a scan that found nothing SunSpec. */
export function noneLine(result: ScanResult): string {
  const answering = result.findings.filter((f) => f.status !== 'silent').map((f) => f.unitId);
  const who = answering.length === 0 ? 'no unit answered' : `answering but not SunSpec: unit${answering.length === 1 ? '' : 's'} ${formatUnitList(answering)}`;
  return `no SunSpec device found on ${result.bus} (units ${formatUnitList(result.units)}; ${who})`;
}

function identity(d: FoundDevice): string {
  return `${d.manufacturer ?? '?'} ${d.model ?? '?'}, serial ${d.serial ?? '?'}${d.version === null ? '' : `, version ${d.version}`}`;
}

function describeDevice(d: FoundDevice): string[] {
  const lines = [`  device ${d.index}: ${identity(d)}`];
  if (d.problem !== undefined) lines.push(`    (${d.problem})`);
  for (const m of d.models) {
    lines.push(`    model ${String(m.id).padStart(4)}  ${(m.name ?? '(unknown model)').padEnd(24)} at ${m.address}, length ${m.length}`);
  }
  return lines;
}

function blockYaml(b: DeviceBlock): string[] {
  return [
    `  - id: ${b.id}`,
    `    kind: ${b.kind}`,
    `    bus: ${b.bus}`,
    `    unitId: ${b.unitId}`,
    `    profile: sunspec`,
    `    sunspec:`,
    `      baseAddress: ${b.sunspec.baseAddress}`,
    `      index: ${b.sunspec.index}`,
  ];
}

function kindOf(d: FoundDevice): DeviceBlock['kind'] {
  if (d.models.some((m) => INVERTER_MODELS.has(m.id))) return 'inverter';
  if (d.models.some((m) => STORAGE_MODELS.has(m.id))) return 'bms';
  return 'other';
}
