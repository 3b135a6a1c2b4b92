// `gridkeeper simulate` as an operator runs it: the built binary on the example site config (moved to
// free ports, so parallel tests never collide), read with mbpoll from Debian as the independent
// client. The simulator runs frozen (--freeze), so an in-process twin built from the same file serves
// the same registers, and the test compares mbpoll's registers with the twin's, register by register.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { SiteConfig, Table } from '../../src/config/types.js';
import { pointWidth } from '../../src/config/point-width.js';
import { decodePoint } from '../../src/drivers/device/codec.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { freePorts, killAllChildren, REPO_ROOT, runToCompletion, spawnGridkeeper, type ChildHandle } from '../../tools/devtools/processes.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { waitFor } from '../../tools/devtools/wait.js';
import { pointBlocks } from './support.js';

/** Builds dist/ when it is missing or older than any source file (`npm test` builds before vitest). */
function ensureBuilt(): void {
  const main = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
  const newestSourceMs = newestMtimeMs(path.join(REPO_ROOT, 'src'));
  if (fs.existsSync(main) && fs.statSync(main).mtimeMs >= newestSourceMs) return;
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 180_000 });
  } catch (err) {
    // tsc emits even with type errors (the type check of `npm test` reports those); only missing output is fatal here.
    if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli', 'simulate.js'))) throw err;
  }
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

const MBPOLL_TYPE: Record<Table, string> = { holding: '4:hex', input: '3:hex', coil: '0', discrete: '1' };

/** Reads `count` entries at 0-based `address` with mbpoll (whose -r is the 1-based reference). */
async function mbpoll(port: number, unit: number, table: Table, address: number, count: number): Promise<number[]> {
  const args = ['-m', 'tcp', '-a', String(unit), '-r', String(address + 1), '-c', String(count), '-t', MBPOLL_TYPE[table], '-1', '-o', '3', '-p', String(port), '127.0.0.1'];
  const run = await runToCompletion('mbpoll', args, { timeoutMs: 20_000 });
  if (run.code !== 0) throw new Error(`mbpoll ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  const values = new Map<number, number>();
  for (const m of run.stdout.matchAll(/^\[(\d+)\]:\s+(0x[0-9A-Fa-f]+|-?\d+)\s*$/gm)) values.set(Number(m[1]) - 1, Number(m[2]));
  return Array.from({ length: count }, (_, i) => {
    const v = values.get(address + i);
    if (v === undefined) throw new Error(`mbpoll printed no value for reference ${address + i + 1}:\n${run.stdout}`);
    return v;
  });
}

const dir = makeTempDir('sim-cli');
let configFile: string;
let writeLog: string;
let config: SiteConfig;
let twin: SimulatedSite;
let child: ChildHandle;
let port: Record<string, number>;

beforeAll(async () => {
  ensureBuilt();
  const [lanPort, bmsPort] = await freePorts(2);
  const example = fs.readFileSync(path.join(REPO_ROOT, 'config', 'example-site.yaml'), 'utf8');
  expect(example).toContain('port: 15020');
  expect(example).toContain('port: 15021');
  configFile = path.join(dir, 'example-site.yaml');
  fs.writeFileSync(configFile, example.replace('port: 15020', `port: ${lanPort}`).replace('port: 15021', `port: ${bmsPort}`));
  writeLog = path.join(dir, 'writes.jsonl');
  config = loadConfig(configFile);
  port = Object.fromEntries(config.buses.map((b) => [b.id, b.type === 'tcp' ? b.port : 0]));
  twin = new SimulatedSite(config, frozenOptions()); // never started: only its values are used
  child = spawnGridkeeper(['simulate', '--config', configFile, '--freeze', '--write-log', writeLog]);
  await child.waitForLine((l) => l === 'ready', 20_000);
});
afterAll(async () => {
  await killAllChildren();
});

describe('gridkeeper simulate --config config/example-site.yaml (on free ports) and mbpoll', () => {
  it('mbpoll reads the documented registers of every device and gets what the simulator serves', async () => {
    expect(config.devices.map((d) => d.profile).sort()).toEqual(['generic-bms', 'generic-inverter', 'generic-turbine']);
    for (const device of config.devices) {
      const served = twin.device(device.id);
      for (const table of ['holding', 'input', 'coil', 'discrete'] as const) {
        // Gaps of up to 16 unused registers are read through, as the agent's read planner does.
        for (const block of pointBlocks(device.points, table, { maxGap: 16 })) {
          const got = await mbpoll(port[device.bus] ?? 0, device.unitId, table, block.address, block.count);
          expect(got, `${device.id} ${table} ${block.address}+${block.count}`).toEqual(served.registers(table, block.address, block.count));
          for (const p of device.points.filter((x) => x.table === table && x.address >= block.address && x.address < block.address + block.count)) {
            const regs = got.slice(p.address - block.address, p.address - block.address + pointWidth(p));
            const sf = p.scaleFactor === undefined ? 0 : Number(served.value(p.scaleFactor));
            expect(decodePoint(p, regs, sf), `${device.id}.${p.name}`).toEqual(served.value(p.name));
          }
        }
      }
    }
  });

  it('serves plausible values: the inverter produces at (frozen) noon, the serial number reads as text', () => {
    expect(Number(twin.device('inv-1').value('activePower'))).toBeGreaterThan(5000);
    expect(twin.device('inv-1').value('serialNumber')).toMatch(/^GK-INV-/);
  });

  it('a write with mbpoll is applied, read back and appended to the write log', async () => {
    const run = await runToCompletion('mbpoll', ['-m', 'tcp', '-a', '1', '-r', '121', '-t', '4', '-1', '-p', String(port.lan), '127.0.0.1', '500']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await mbpoll(port.lan ?? 0, 1, 'holding', 120, 1)).toEqual([500]);
    const lines = await waitFor('the write in the write log', () => {
      const text = fs.existsSync(writeLog) ? fs.readFileSync(writeLog, 'utf8') : '';
      return text.trim() === '' ? undefined : text.trim().split('\n');
    }, { timeoutMs: 5000 });
    expect(lines).toHaveLength(1);
    const record: unknown = JSON.parse(lines[0] ?? '');
    expect(record).toMatchObject({ device: 'inv-1', unitId: 1, fc: 6, table: 'holding', address: 120, values: [500], outcome: 'applied' });
    expect(record).toHaveProperty('peer', expect.stringMatching(/127\.0\.0\.1:\d+$/));
  });

  it('prints nothing on stdout but `ready` (logs go to stderr), and exits 0 on SIGTERM', async () => {
    const status = await child.stop(5000);
    expect(status).toEqual({ code: 0, signal: null });
    expect(child.lines).toEqual(['ready']);
    expect(child.stderrLines.some((l) => l.includes('Modbus TCP server listening'))).toBe(true);
  });
});

describe('gridkeeper simulate failures', () => {
  it('a bad config: exit 78, one FILE:LINE: path: message line per problem', async () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, fs.readFileSync(configFile, 'utf8').replace('bus: lan', 'bus: nowhere'));
    const run = await runToCompletion(process.execPath, [path.join(REPO_ROOT, 'bin', 'gridkeeper'), 'simulate', '--config', bad]);
    expect(run.code).toBe(78);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: devices\\[0\\]\\.bus: .+`, 'm'));
  });

  it('a TCP port in use: exit 1 naming the bus and the address', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    try {
      const address = blocker.address();
      if (address === null || typeof address === 'string') throw new Error('blocker has no TCP address');
      const taken = address.port;
      const file = path.join(dir, 'taken.yaml');
      fs.writeFileSync(file, fs.readFileSync(configFile, 'utf8').replace(`port: ${port['bms-lan']}`, `port: ${taken}`));
      const run = await runToCompletion(process.execPath, [path.join(REPO_ROOT, 'bin', 'gridkeeper'), 'simulate', '--config', file]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`bus bms-lan: cannot listen on 127.0.0.1:${taken}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('a serial path that does not exist: exit 1 naming the bus and the path', async () => {
    const file = path.join(dir, 'rtu.yaml');
    const missing = path.join(dir, 'no-such-tty');
    const text = fs.readFileSync(configFile, 'utf8').replace(
      /^buses:\n/m,
      `buses:\n  - { id: rs485, type: rtu, path: ${missing} }\n`,
    );
    fs.writeFileSync(file, text);
    const run = await runToCompletion(process.execPath, [path.join(REPO_ROOT, 'bin', 'gridkeeper'), 'simulate', '--config', file]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`bus rs485: cannot listen on ${missing}`);
  });

  it('no --config: usage error, exit 2', async () => {
    const run = await runToCompletion(process.execPath, [path.join(REPO_ROOT, 'bin', 'gridkeeper'), 'simulate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--config FILE is required');
  });
});
