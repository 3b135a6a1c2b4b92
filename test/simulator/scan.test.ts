// `gridkeeper scan` as an installer runs it: the built CLI against `gridkeeper simulate` in another
// process, over Modbus TCP and over Modbus RTU on a socat pseudo-terminal pair. It finds the SunSpec
// devices with their base addresses and models, prints a device block that the config loader
// accepts, writes nothing, exits 1 with one line when nothing SunSpec answers, and spends about one
// timeout per silent unit. Needs dist/ (`npm run build`; `npm test` builds first).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { GRIDKEEPER_BIN, REPO_ROOT, freePorts, killAllChildren, runToCompletion, spawnGridkeeper } from '../../tools/devtools/processes.js';
import { openPtyPair, type PtyPair } from '../../tools/devtools/socat.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';

const dir = makeTempDir('scan');

function siteFile(name: string, buses: string, devices: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `site: scan-test\nagent: { id: ${name} }\nzookeeper: { connect: "127.0.0.1:2181" }\nbuses:\n${buses}\ndevices:\n${devices}\n`);
  return file;
}

/** The SunSpec devices of these tests on `bus`: an inverter at 40000, a battery at 50000, an inverter behind a data logger at 0. */
function sunspecDevices(bus: string): string {
  return [
    `  - { id: pv-1, kind: inverter, bus: ${bus}, unitId: 1, profile: sunspec }`,
    `  - { id: bat-1, kind: bms, bus: ${bus}, unitId: 2, profile: sunspec, sunspec: { baseAddress: 50000 } }`,
    `  - { id: pv-3, kind: inverter, bus: ${bus}, unitId: 3, profile: sunspec, sunspec: { baseAddress: 0, index: 2 } }`,
    `  - { id: inv-4, kind: inverter, bus: ${bus}, unitId: 4, profile: generic-inverter }`,
  ].join('\n');
}

function scan(args: string[]): ReturnType<typeof runToCompletion> {
  return runToCompletion(process.execPath, [GRIDKEEPER_BIN, 'scan', ...args], { timeoutMs: 60_000 });
}

/** The units and models of `scan --json`. */
function summary(json: string): Array<{ unit: number; base: number; devices: Array<{ model: string | null; models: Array<[number, number, number]> }> }> {
  const doc = JSON.parse(json) as { answered: Array<{ unitId: number; status: string; baseAddress?: number; devices?: Array<{ model: string | null; models: Array<{ id: number; address: number; length: number }> }> }> };
  return doc.answered
    .filter((u) => u.status === 'sunspec')
    .map((u) => ({
      unit: u.unitId,
      base: u.baseAddress ?? -1,
      devices: (u.devices ?? []).map((d) => ({ model: d.model, models: d.models.map((m): [number, number, number] => [m.id, m.address, m.length]) })),
    }));
}

const INVERTER_AT_40000: Array<[number, number, number]> = [[1, 40002, 66], [103, 40070, 50], [120, 40122, 26], [121, 40150, 30], [123, 40182, 24], [160, 40208, 48]];

beforeAll(() => {
  if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'scan.js'))) throw new Error('dist/ has no scan verb: run `npm run build` first (npm test does)');
});
afterAll(async () => {
  await killAllChildren();
});

describe('over Modbus TCP', () => {
  let port: number;
  let writeLog: string;

  beforeAll(async () => {
    [port = 0] = await freePorts(1);
    writeLog = path.join(dir, 'tcp-writes.jsonl');
    const file = siteFile('tcp', `  - { id: lan, type: tcp, host: 127.0.0.1, port: ${port} }`, sunspecDevices('lan'));
    const sim = spawnGridkeeper(['simulate', '--config', file, '--write-log', writeLog], { label: 'simulate (tcp)' });
    await sim.waitForLine('ready', 20_000);
  });

  it('finds every SunSpec device with its base address, chain and models; the generic device answers as not SunSpec', async () => {
    const run = await scan(['--tcp', `127.0.0.1:${port}`, '--units', '1-6']);
    expect(run.code, run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toContain('unit 1: SunSpec, base address 40000');
    expect(out).toMatch(/device 1: gridkeeper GK-SIM-PV15K, serial GKPV[0-9A-F]{8}, version 1\.4\.2/);
    expect(out).toMatch(/model +103 +inverter_three_phase +at 40070, length 50/);
    expect(out).toContain('unit 2: SunSpec, base address 50000');
    expect(out).toContain('unit 3: SunSpec, base address 0');
    expect(out).toMatch(/^unit 4: not a SunSpec device/m);
    expect(out).toMatch(/^scanned units 1-6 on tcp 127\.0\.0\.1:\d+ in [\d.]+ s: 4 answered, 4 SunSpec devices$/m);
    expect(run.stderr).toBe('');
  });

  it('--json: the same as data', async () => {
    const run = await scan(['--tcp', `127.0.0.1:${port}`, '--units', '1-3,5', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(summary(run.stdout)).toEqual([
      { unit: 1, base: 40000, devices: [{ model: 'GK-SIM-PV15K', models: INVERTER_AT_40000 }] },
      { unit: 2, base: 50000, devices: [{ model: 'GK-SIM-BAT41', models: [[1, 50002, 66], [124, 50070, 24], [802, 50096, 62]] }] },
      {
        unit: 3,
        base: 0,
        devices: [
          { model: 'GK-SIM-LOGGER', models: [[1, 2, 66]] },
          { model: 'GK-SIM-PV15K', models: [[1, 70, 66], [103, 138, 50], [120, 190, 26], [121, 218, 30], [123, 250, 24], [160, 276, 48]] },
        ],
      },
    ]);
  });

  it('prints device blocks that a site file takes as they are, and has written nothing', async () => {
    const run = await scan(['--tcp', `127.0.0.1:${port}`, '--units', '1-3']);
    const lines = run.stdout.split('\n');
    const from = lines.findIndex((l) => l.startsWith('# ready to paste'));
    expect(from).toBeGreaterThan(0);
    const pasted = lines.slice(from + 1).join('\n');
    const config = parseConfig(`site: pasted\nzookeeper: { connect: "127.0.0.1:2181" }\nbuses:\n  - { id: lan, type: tcp, host: 127.0.0.1, port: ${port} }\ndevices:\n${pasted}\n`, 'pasted.yaml');
    expect(config.devices.map((d) => [d.id, d.kind, d.unitId, d.profile, d.sunspec?.baseAddress, d.sunspec?.index])).toEqual([
      ['inv-1', 'inverter', 1, 'sunspec', 40000, 1],
      ['bat-2', 'bms', 2, 'sunspec', 50000, 1],
      ['inv-3-2', 'inverter', 3, 'sunspec', 0, 2],
    ]);
    expect(fs.readFileSync(writeLog, 'utf8')).toBe(''); // scan only reads
  });
});

describe('nothing SunSpec behind the port', () => {
  it('exits 1 with one line on stderr and no stack trace', async () => {
    const [port = 0] = await freePorts(1);
    const file = siteFile('generic', `  - { id: lan, type: tcp, host: 127.0.0.1, port: ${port} }`, '  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter }');
    const sim = spawnGridkeeper(['simulate', '--config', file], { label: 'simulate (generic)' });
    await sim.waitForLine('ready', 20_000);
    const run = await scan(['--tcp', `127.0.0.1:${port}`, '--units', '1-3']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      `gridkeeper scan: no SunSpec device found on tcp 127.0.0.1:${port} (units 1-3; answering but not SunSpec: unit 1)`,
    ]);
    await sim.stop();
  });

  it('exits 1 with one line when nothing listens, and 2 on a usage error', async () => {
    const [port = 0] = await freePorts(1);
    const refused = await scan(['--tcp', `127.0.0.1:${port}`, '--units', '1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`gridkeeper scan: cannot reach tcp 127.0.0.1:${port}`);
    for (const args of [[], ['--tcp', 'h', '--rtu', '/dev/x'], ['--tcp', 'h', '--units', '0-3'], ['--tcp', 'h', '--timeout-ms', 'soon'], ['--tcp', 'h', '--baud', '9600']]) {
      const run = await scan(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr, args.join(' ')).toMatch(/^gridkeeper scan: /);
    }
  });
});

describe('over Modbus RTU (socat pair)', () => {
  let pair: PtyPair;

  beforeAll(async () => {
    pair = await openPtyPair();
    const file = siteFile('rtu', `  - { id: rs485, type: rtu, path: "${pair.a}", baudRate: 19200 }`, sunspecDevices('rs485'));
    const sim = spawnGridkeeper(['simulate', '--config', file], { label: 'simulate (rtu)' });
    await sim.waitForLine('ready', 20_000);
  });
  afterAll(async () => {
    await killAllChildren();
    await pair.close();
  });

  it('finds the devices among silent units', async () => {
    const run = await scan(['--rtu', pair.b, '--baud', '19200', '--units', '1-2,5-6', '--timeout-ms', '200', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(summary(run.stdout).map((u) => [u.unit, u.base, u.devices.map((d) => d.model)])).toEqual([
      [1, 40000, ['GK-SIM-PV15K']],
      [2, 50000, ['GK-SIM-BAT41']],
    ]);
    expect(summary(run.stdout)[0]?.devices[0]?.models).toEqual(INVERTER_AT_40000);
    expect((JSON.parse(run.stdout) as { silentUnits: string }).silentUnits).toBe('5-6');
  });

  it('spends about one timeout per silent unit: 10 absent units at 200 ms, no hang', async () => {
    const units = 10;
    const timeoutMs = 200;
    const run = await scan(['--rtu', pair.b, '--baud', '19200', '--units', '30-39', '--timeout-ms', String(timeoutMs), '--json']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([`gridkeeper scan: no SunSpec device found on rtu ${pair.b} (units 30-39; no unit answered)`]);
    const { elapsedMs, silentUnits } = JSON.parse(run.stdout) as { elapsedMs: number; silentUnits: string };
    expect(silentUnits).toBe('30-39');
    // At least the timeout per unit: each one was really waited for, once (discovery does not try
    // the other base addresses of a unit that is silent at the first).
    expect(elapsedMs).toBeGreaterThanOrEqual(units * timeoutMs);
    // Each unit may cost more than its timeout by the RTU line silence kept after a failure (20 ms),
    // the bus pause (5 ms) and timers firing late on a loaded 2-core machine: 100 ms a unit, plus a
    // second to open the port. A second request per unit (a retry, another base) would need 2x.
    expect(elapsedMs).toBeLessThan(units * (timeoutMs + 100) + 1000);
  });
});
