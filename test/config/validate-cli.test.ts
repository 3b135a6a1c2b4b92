// `gridkeeper validate`: in-process for exit codes and output, and once through the built binary.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

const tmp = mkdtempSync(join(tmpdir(), 'gridkeeper-validate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIO = { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l), env: {} };
  const code = await main(['validate', ...args], io);
  return { code, stdout, stderr };
}

const BROKEN = [
  'site: s',
  'zookeeper:',
  '  connect: "a:1"',
  'buses:',
  '  - { id: lan, type: tcp, host: h, port: 0 }',
  'devices:',
  '  - id: d',
  '    kind: meter',
  '    bus: lan',
  '    points:',
  '      - { name: p, table: coil, address: 0, type: float32 }',
  '',
].join('\n');

describe('validate (in-process)', () => {
  it('a valid config: exit 0 and a summary naming site, agent, buses and devices', async () => {
    const r = await run(['--config', 'config/example-site.yaml']);
    expect(r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout[0]).toBe('config/example-site.yaml: valid');
    const text = r.stdout.join('\n');
    expect(text).toMatch(/^site +example-site$/m);
    expect(text).toMatch(/^agent +gw-a$/m);
    expect(text).toMatch(/^zookeeper +127\.0\.0\.1:2181 /m);
    // Section 10: deadbands from the generic profiles, the alive write, results bounded by count and age.
    expect(text).toMatch(/^publish +every 1000 ms at most, deadbands on \d+ of \d+ points, unchanged every 60000 ms, snapshot /m);
    expect(text).toMatch(/^control +.*, results kept 1000 for 7 d at most$/m);
    expect(text).toMatch(/^ +lan +tcp 127\.0\.0\.1:15020 .* 2 devices$/m);
    expect(text).toMatch(/^ +bms-lan +tcp 127\.0\.0\.1:15021 .* 1 device$/m);
    expect(text).toMatch(/^ +inv-1 +inverter +bus lan +unit 1 +17 points .*writable: activePowerLimit, enabled {2}held: activePowerLimit \(falls back to 100 after 60 s\)$/m);
    expect(text).toMatch(/^ +wt-1 +turbine +bus lan +unit 2 /m);
    expect(text).toMatch(/^ +bms-1 +bms +bus bms-lan +unit 1 /m);
    // One screen.
    expect(r.stdout.length).toBeLessThanOrEqual(24);
  });

  it('an invalid config: exit 78 and FILE:LINE: path: message per problem on stderr', async () => {
    const file = join(tmp, 'broken.yaml');
    writeFileSync(file, BROKEN);
    const r = await run(['--config', file]);
    expect(r.code).toBe(78);
    expect(r.stdout).toEqual([]);
    expect(r.stderr).toEqual([
      `${file}:5: buses[0].port: must be an integer from 1 to 65535`,
      `${file}:11: devices[0].points[0].type: float32 does not fit table coil: coils and discrete inputs hold single bits (type bool)`,
    ]);
  });

  it('a YAML syntax error and a missing file are exit 78 with FILE:LINE', async () => {
    const file = join(tmp, 'syntax.yaml');
    writeFileSync(file, 'site: s\nzookeeper: [\n');
    const bad = await run(['--config', file]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toHaveLength(1);
    expect(bad.stderr[0]).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+: invalid YAML: `));

    const missing = await run(['--config', 'no/such/file.yaml']);
    expect(missing.code).toBe(78);
    expect(missing.stderr).toEqual(['no/such/file.yaml:1: cannot read the config file: no such file']);
  });

  it('a credentials file that group or others may read: exit 78 naming the path and its mode, as run refuses it', async () => {
    const secret = join(tmp, 'zookeeper.credentials');
    writeFileSync(secret, 'gridkeeper:s3cret\n');
    const file = join(tmp, 'with-auth.yaml');
    writeFileSync(file, `site: s\nzookeeper:\n  connect: "a:1"\n  auth:\n    credentialsFile: ${secret}\n`);
    for (const mode of [0o644, 0o640, 0o604]) {
      chmodSync(secret, mode);
      const r = await run(['--config', file]);
      expect(r.code).toBe(78);
      expect(r.stdout).toEqual([]);
      const octal = mode.toString(8).padStart(4, '0');
      expect(r.stderr).toEqual([`${file}:5: zookeeper.auth.credentialsFile: ${secret}: mode ${octal} lets group or others read it; run chmod 600 ${secret}`]);
    }
    chmodSync(secret, 0o600);
    const ok = await run(['--config', file]);
    expect(ok.stderr).toEqual([]);
    expect(ok.code).toBe(0);
    // A missing file or one that is not user:password is refused too (run would refuse it).
    writeFileSync(secret, 'no colon\n');
    expect((await run(['--config', file])).stderr).toEqual([`${file}:5: zookeeper.auth.credentialsFile: ${secret}: expected one line user:password with both parts non-empty`]);
    rmSync(secret);
    expect((await run(['--config', file])).stderr[0]).toMatch(new RegExp(`^${file}:5: zookeeper\\.auth\\.credentialsFile: ${secret}: cannot read it: ENOENT`));
  });

  it('a missing or unknown option is a usage error: exit 2', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr.join('\n')).toContain('--config FILE is required');
    const unknown = await run(['--config', 'config/example-site.yaml', '--strict']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.join('\n')).toContain("Unknown option '--strict'");
    const positional = await run(['config/example-site.yaml']);
    expect(positional.code).toBe(2);
  });
});

describe('validate (built binary)', () => {
  const execFileP = promisify(execFile);
  const bin = './bin/gridkeeper';

  async function exec(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileP(bin, args, { timeout: 30_000 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: unknown; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  }

  it('is built (npm test builds dist/ before vitest)', () => {
    expect(existsSync('dist/cli/validate.js')).toBe(true);
  });

  it('exits 0 on the example config', async () => {
    const r = await exec(['validate', '--config', 'config/example-site.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('config/example-site.yaml: valid');
  });

  it('exits 78 with one FILE:LINE: path: message line per problem', async () => {
    const file = join(tmp, 'broken-bin.yaml');
    writeFileSync(file, BROKEN);
    const r = await exec(['validate', '--config', file]);
    expect(r.code).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      `${file}:5: buses[0].port: must be an integer from 1 to 65535`,
      `${file}:11: devices[0].points[0].type: float32 does not fit table coil: coils and discrete inputs hold single bits (type bool)`,
    ]);
  });
});
