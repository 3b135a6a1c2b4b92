// `npm run package` builds a Debian package of the product and nothing else (CONTRACT.md section 8).
// With the real tools: the package is built once, listed with dpkg-deb, checked by lintian (every
// finding must be in the README's table), unpacked into a throwaway tree where gridkeeper runs,
// and installed with dpkg -i and purged again on this machine, which must then hold no file of it.
//
// The install tests need root (CI runs as root on a throwaway machine) and a machine without
// gridkeeper installed; elsewhere they are skipped. afterAll purges the package, and removes the
// site file, the link and the system user the tests made, also when a test failed.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../../src/cli/main.js';
import { REPO_ROOT, runToCompletion } from '../../tools/devtools/processes.js';
import { makeTempDir, removeTempDir } from '../../tools/devtools/temp-dirs.js';

const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; files: string[] };
const VERSION = manifest.version;
const APP = 'usr/lib/gridkeeper';
const SAMPLE = 'usr/share/doc/gridkeeper/examples/example-site.yaml';
// The verbs of CONTRACT.md section 1; --help and the man page may have more.
const CONTRACT_VERBS = ['run', 'validate', 'status', 'command', 'simulate'];
// npm must see a plain environment: NODE_ENV or test tooling variables would change what it installs.
const USER_ENV = { NODE_ENV: undefined, NODE_OPTIONS: undefined, VITEST: undefined, VITEST_MODE: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined };
// What the install tests add to the machine, and take away again in afterAll.
const SITE_FILE = '/etc/gridkeeper/package-test.yaml';
const WANTS_LINK = '/etc/systemd/system/multi-user.target.wants/gridkeeper@package-test.service';
// As `systemctl enable` makes it for a unit with RequiredBy=gridkeeper@.service, and through /lib.
const REQUIRES_DIR = '/etc/systemd/system/gridkeeper@.service.requires';
const REQUIRES_LINK = `${REQUIRES_DIR}/gridkeeper-package-test.service`;

interface Entry {
  type: 'file' | 'dir' | 'link';
  mode: string;
  owner: string;
  /** Relative to the root, without "./"; directories without a trailing slash. */
  path: string;
  target: string | null;
}

let deb = '';
let entries: Entry[] = [];
const byPath = new Map<string, Entry>();
const tempDirs: string[] = [];

async function run(command: string, args: string[], timeoutMs = 60_000) {
  const result = await runToCompletion(command, args, { timeoutMs, env: USER_ENV });
  return { ...result, output: `${command} ${args.join(' ')}: exit ${result.code}\n${result.stdout}\n${result.stderr}` };
}

/** `dpkg-deb -c` lines: `-rw-r--r-- root/root 545 2026-12-01 17:00 ./usr/lib/... [-> target]`. */
function parseListing(text: string): Entry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line): Entry => {
      const m = /^(\S+)\s+(\S+)\s+\d+\s+\S+\s+\S+\s+\.\/(.*?)(?: -> (.*))?$/.exec(line);
      if (!m) throw new Error(`not a dpkg-deb -c line: ${line}`);
      const mode = m[1] ?? '';
      const type: Entry['type'] = mode.startsWith('d') ? 'dir' : mode.startsWith('l') ? 'link' : 'file';
      return { type, mode, owner: m[2] ?? '', path: (m[3] ?? '').replace(/\/$/, ''), target: m[4] ?? null };
    })
    .filter((e) => e.path !== '');
}

beforeAll(async () => {
  // Into a directory of its own, not dist-deb/: another run of this file may build at the same time.
  const out = makeTempDir('deb');
  tempDirs.push(out);
  // npm ci --omit=dev in a staging copy compiles the zookeeper C client and the other native add-ons:
  // about 2 minutes alone on 2 shared cores, several when other test files run beside it.
  const built = await run('npm', ['run', 'package', '--', out], 900_000);
  expect(built.timedOut, 'npm run package took longer than 15 minutes').toBe(false);
  expect(built.code, built.output).toBe(0);
  const arch = (await run('dpkg', ['--print-architecture'])).stdout.trim();
  deb = path.join(out, `gridkeeper_${VERSION}_${arch}.deb`);
  expect(fs.existsSync(deb), `${deb} was not built`).toBe(true);
  const listing = await run('dpkg-deb', ['-c', deb]);
  expect(listing.code, listing.output).toBe(0);
  entries = parseListing(listing.stdout);
  for (const e of entries) byPath.set(e.path, e);
}, 900_000);

afterAll(() => tempDirs.forEach(removeTempDir));

describe('the package', () => {
  it('is gridkeeper_<version>_<arch>.deb, for nodejs 20 or later, with its maintainer scripts', async () => {
    const field = async (name: string) => (await run('dpkg-deb', ['-f', deb, name])).stdout.trim();
    expect(await field('Package')).toBe('gridkeeper');
    expect(await field('Version')).toBe(VERSION);
    expect(await field('Architecture')).toBe((await run('dpkg', ['--print-architecture'])).stdout.trim());
    const depends = await field('Depends');
    const nodeMajor = Number(process.versions.node.split('.')[0]);
    // From the Node.js major that compiled the native modules up to (not including) the next one.
    expect(depends).toContain(`nodejs (>= ${nodeMajor}), nodejs (<< ${nodeMajor + 1})`);
    expect(nodeMajor).toBeGreaterThanOrEqual(20);
    expect(depends).toMatch(/\blibc6 \(>= [0-9.]+\)/);
    const info = await run('dpkg-deb', ['-I', deb]);
    for (const script of ['postinst', 'prerm', 'postrm', 'md5sums']) expect(info.stdout).toMatch(new RegExp(`\\b${script}\\b`));
  });

  it('holds the product under /usr/lib/gridkeeper, the unit, the sysusers entry, the docs and /etc/gridkeeper', () => {
    const expected = [
      `${APP}/bin/gridkeeper`,
      `${APP}/package.json`,
      `${APP}/dist/cli/main.js`,
      `${APP}/dist/package-root.js`,
      `${APP}/node_modules/zookeeper/build/Release/zookeeper.node`,
      `${APP}/node_modules/@serialport/bindings-cpp/build/Release/bindings.node`,
      'usr/lib/systemd/system/gridkeeper@.service',
      'usr/lib/sysusers.d/gridkeeper.conf',
      'usr/share/doc/gridkeeper/copyright',
      'usr/share/doc/gridkeeper/changelog.gz',
      SAMPLE,
      'usr/share/man/man1/gridkeeper.1.gz',
      ...fs.readdirSync(path.join(REPO_ROOT, 'profiles')).map((p) => `${APP}/profiles/${p}`),
    ];
    for (const p of expected) expect(byPath.get(p)?.type, p).toBe('file');
    expect(byPath.get('etc/gridkeeper')?.type).toBe('dir');
    expect(byPath.get('usr/bin/gridkeeper')).toMatchObject({ type: 'link', target: '../lib/gridkeeper/bin/gridkeeper' });
    expect(byPath.get(`${APP}/bin/gridkeeper`)?.mode).toBe('-rwxr-xr-x');
    // --root-owner-group: nothing belongs to the build machine's users.
    expect(entries.filter((e) => e.owner !== 'root/root')).toEqual([]);
    // Everything package.json "files" names is in the package: systemd/ as above, the samples of
    // config/ as examples, the man page in man1, the rest under /usr/lib/gridkeeper.
    for (const entry of manifest.files.filter((f) => f !== 'systemd')) {
      const packaged = entry.startsWith('config/')
        ? `usr/share/doc/gridkeeper/examples/${path.basename(entry)}`
        : entry.endsWith('.1')
          ? `usr/share/man/man1/${path.basename(entry)}.gz`
          : `${APP}/${entry}`;
      expect(byPath.has(packaged), `package.json "files" entry ${entry}`).toBe(true);
    }
  });

  it('holds nothing but the product: no tests, tools, TypeScript, source maps or dev dependencies', () => {
    const paths = entries.map((e) => e.path);
    for (const top of ['src', 'test', 'tools', 'dist-tools', 'docs', 'config', 'systemd', 'node_modules/.bin']) {
      expect(paths.filter((p) => p === `${APP}/${top}` || p.startsWith(`${APP}/${top}/`)), top).toEqual([]);
    }
    expect(paths.filter((p) => /\.(ts|mts|cts|map)$/.test(p))).toEqual([]);
    expect(paths.filter((p) => /\/(test|tests|__tests__)\//.test(p))).toEqual([]);
    // dist/ is src/ compiled afresh: each of its modules has its source (none is left over from an
    // older build of the work tree).
    const sources = new Set(
      fs
        .readdirSync(path.join(REPO_ROOT, 'src'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => `${APP}/dist/${f.replace(/\.ts$/, '.js')}`),
    );
    const modules = paths.filter((p) => p.startsWith(`${APP}/dist/`) && p.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(50);
    expect(modules.filter((p) => !sources.has(p))).toEqual([]);
    // node_modules is exactly what package-lock.json marks as production: every dev-only package
    // (vitest, typescript, modbus-serial, ...) absent, every other one present.
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
    const locked = Object.entries(lock.packages).filter(([p]) => p.startsWith('node_modules/'));
    const dev = locked.filter(([, v]) => v.dev === true).map(([p]) => p);
    const prod = locked.filter(([, v]) => v.dev !== true && v.optional !== true).map(([p]) => p);
    expect(dev).toEqual(expect.arrayContaining(['node_modules/vitest', 'node_modules/typescript', 'node_modules/modbus-serial']));
    expect(dev.filter((p) => byPath.has(`${APP}/${p}`))).toEqual([]);
    expect(prod.filter((p) => byPath.get(`${APP}/${p}/package.json`)?.type !== 'file')).toEqual([]);
  });

  it('has no lintian finding that the README does not list with its reason', async () => {
    const result = await run('lintian', ['--display-info', '--pedantic', deb], 300_000);
    // Exit 0: no error-level finding; 2: some (checked against the README below); 1: lintian failed.
    expect([0, 2], result.output).toContain(result.code);
    const findings = result.stdout
      .split('\n')
      .map((line) => /^([EWIPX]): gridkeeper(?: binary)?: (\S+)/.exec(line))
      .filter((m) => m !== null)
      .map((m) => ({ level: m[1] ?? '', tag: m[2] ?? '' }));
    // Summed up in the test's output, one line per tag.
    const counts = new Map<string, number>();
    for (const f of findings) counts.set(`${f.level}: ${f.tag}`, (counts.get(`${f.level}: ${f.tag}`) ?? 0) + 1);
    console.info(`lintian findings for ${path.basename(deb)}:\n${[...counts].map(([k, n]) => `  ${k} (${n})`).join('\n')}`);

    const accepted = readmeLintianTable();
    const unlisted = [...counts.keys()].filter((k) => !accepted.has(k));
    expect(unlisted, 'lintian findings missing from the README table (level: tag)').toEqual([]);
    expect(findings.filter((f) => f.level === 'E' && !accepted.has(`E: ${f.tag}`))).toEqual([]);
    // And the table says nothing lintian no longer finds.
    expect([...accepted].filter((k) => !counts.has(k)), 'README lists findings lintian no longer reports').toEqual([]);
  }, 300_000);
});

/** `level: tag` of each row of the README's "Lintian findings" table (`| W | `tag`, `tag` | why |`). */
function readmeLintianTable(): Set<string> {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Lintian findings');
  expect(start, 'README has a section "### Lintian findings"').toBeGreaterThanOrEqual(0);
  const section = readme.slice(start).split(/\n#{2,3} /)[0] ?? '';
  const accepted = new Set<string>();
  for (const row of section.matchAll(/^\| ([EWIPX]) \| ([^|]+) \|/gm)) {
    for (const tag of (row[2] ?? '').matchAll(/`([a-z0-9.+-]+)`/g)) accepted.add(`${row[1]}: ${tag[1]}`);
  }
  return accepted;
}

describe('unpacked with dpkg-deb -x', () => {
  let tree = '';
  const bin = () => path.join(tree, APP, 'bin', 'gridkeeper');

  beforeAll(async () => {
    tree = makeTempDir('deb-tree');
    tempDirs.push(tree);
    const unpacked = await run('dpkg-deb', ['-x', deb, tree]);
    expect(unpacked.code, unpacked.output).toBe(0);
  });

  it('runs gridkeeper --version and --help', async () => {
    const version = await run(bin(), ['--version']);
    expect(version.code, version.output).toBe(0);
    expect(version.stdout.trim()).toBe(`gridkeeper ${VERSION}`);
    const help = await run(bin(), ['--help']);
    expect(help.code, help.output).toBe(0);
    expect(help.stdout.trim()).toBe(USAGE);
  });

  it('validates the sample config it ships', async () => {
    const result = await run(bin(), ['validate', '--config', path.join(tree, SAMPLE)]);
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toMatch(/: valid$/m);
  });

  it('loads every module of dist/ and the native add-ons with the node_modules it carries', async () => {
    // Proves that pruning node_modules took nothing a module imports; the add-ons load on import.
    const script = `
      import { readdirSync } from 'node:fs';
      const dist = ${JSON.stringify(path.join(tree, APP, 'dist'))};
      for (const f of readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'))) await import(dist + '/' + f);
      const { default: ZooKeeper } = await import('zookeeper');
      if (ZooKeeper.constants.ZOO_EPHEMERAL !== 1) throw new Error('zookeeper add-on');
      const { autoDetect } = await import('@serialport/bindings-cpp');
      if (!Array.isArray(await autoDetect().list())) throw new Error('serialport add-on');
      console.log('loaded');`;
    const result = await runToCompletion(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(tree, APP), timeoutMs: 60_000 });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout.trim()).toBe('loaded');
  });

  it('ships the units and the sysusers entry unchanged, and a man page with every verb and option of --help', async () => {
    const shipped = (dir: string) => fs.readdirSync(path.join(tree, dir)).map((f) => path.join(dir, f));
    const units = shipped('usr/lib/systemd/system');
    expect(units).toContain('usr/lib/systemd/system/gridkeeper@.service');
    for (const packaged of [...units, ...shipped('usr/lib/sysusers.d')]) {
      const source = packaged.replace('usr/lib/systemd/system', 'systemd').replace('usr/lib/sysusers.d', 'systemd/sysusers.d');
      expect(fs.readFileSync(path.join(tree, packaged), 'utf8'), packaged).toBe(fs.readFileSync(path.join(REPO_ROOT, source), 'utf8'));
    }
    const page = path.join(tree, 'usr/share/man/man1/gridkeeper.1.gz');
    const warnings = await run('man', ['--warnings', '-l', page]);
    expect(warnings.code, warnings.output).toBe(0);
    expect(warnings.stderr).toBe('');
    const roff = (await run('zcat', [page])).stdout.replaceAll('\\-', '-');
    const verbs = [...USAGE.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1] ?? '');
    expect(verbs).toEqual(expect.arrayContaining(CONTRACT_VERBS));
    for (const verb of verbs) expect(roff, verb).toContain(`.B gridkeeper ${verb}`);
    const options = new Set(USAGE.match(/--[a-z][a-z-]*/g));
    expect(options.size).toBeGreaterThan(10);
    for (const option of options) expect(roff, option).toContain(option);
    for (const env of USAGE.match(/\b[A-Z][A-Z_]{4,}\b/g) ?? []) expect(roff, env).toContain(env);
  });
});

// --- Installed for real -------------------------------------------------------------------------

const isRoot = process.getuid?.() === 0;

/** dpkg, waiting while another dpkg or apt holds its lock (a shared development machine). */
async function dpkg(args: string[], env: Record<string, string> = {}) {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const result = await runToCompletion('dpkg', args, { timeoutMs: 180_000, env: { ...USER_ENV, DEBIAN_FRONTEND: 'noninteractive', ...env } });
    if (!/lock was locked by another process|could not get lock/i.test(result.stderr) || Date.now() > deadline) {
      return { ...result, output: `dpkg ${args.join(' ')}: exit ${result.code}\n${result.stdout}\n${result.stderr}` };
    }
    await sleep(2000);
  }
}

async function packageStatus(): Promise<string> {
  const result = await runToCompletion('dpkg-query', ['-W', '-f=${db:Status-Status}', 'gridkeeper']);
  return result.code === 0 ? result.stdout.trim() : 'not-installed';
}

async function userExists(): Promise<boolean> {
  return (await runToCompletion('getent', ['passwd', 'gridkeeper'])).code === 0;
}

async function removeUser(): Promise<void> {
  await runToCompletion('userdel', ['gridkeeper']);
  if ((await runToCompletion('getent', ['group', 'gridkeeper'])).code === 0) await runToCompletion('groupdel', ['gridkeeper']);
}

/** Paths of the package still on the machine: files and links, and directories no other package owns. */
async function leftovers(): Promise<string[]> {
  const present = entries.filter((e) => fs.existsSync(`/${e.path}`) || (e.type === 'link' && isLink(`/${e.path}`)));
  const dirs = present.filter((e) => e.type === 'dir').map((e) => `/${e.path}`);
  const owned = new Set<string>();
  if (dirs.length > 0) {
    const result = await runToCompletion('dpkg-query', ['-S', ...dirs], { timeoutMs: 60_000 });
    // `dpkg-query -S` prints `pkg[:arch][, pkg...]: /path` for each path some package owns.
    for (const line of result.stdout.split('\n')) {
      const at = line.lastIndexOf(': /');
      if (at >= 0) owned.add(line.slice(at + 2));
    }
  }
  return present.map((e) => `/${e.path}`).filter((p) => !owned.has(p));
}

const LOCK_DIR = '/run/lock/gridkeeper-package-test';
const LOCK_WAIT_MS = 600_000;

/**
 * One install test at a time on this machine: two test runs on a shared machine would install and
 * purge the same package under each other. The lock is a directory (mkdir is atomic) holding the
 * owner's pid; a lock whose owner is gone is taken over.
 */
async function machineLock(): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.mkdirSync(LOCK_DIR);
      fs.writeFileSync(path.join(LOCK_DIR, 'pid'), String(process.pid));
      return () => fs.rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch (err) {
      if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
    }
    let owner = 0;
    try {
      owner = Number(fs.readFileSync(path.join(LOCK_DIR, 'pid'), 'utf8'));
    } catch {
      // created a moment ago, its pid not written yet
    }
    if (owner > 0 && !isAlive(owner)) {
      fs.rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Timeout after ${LOCK_WAIT_MS}ms waiting for ${LOCK_DIR} (held by pid ${owner})`);
    await sleep(2000);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

describe.skipIf(!isRoot)('installed with dpkg -i, removed with dpkg --purge', () => {
  let usable = false;
  let userBefore = true;
  let unlock = (): void => {};

  beforeAll(async () => {
    unlock = await machineLock();
    // Only on a machine without gridkeeper: the tests purge the package and remove /etc/gridkeeper.
    usable = (await packageStatus()) === 'not-installed' && !fs.existsSync('/etc/gridkeeper');
    userBefore = await userExists();
  }, LOCK_WAIT_MS + 10_000);

  afterAll(async () => {
    try {
      if (usable) await restoreMachine();
    } finally {
      unlock();
    }
  }, 300_000);

  async function restoreMachine(): Promise<void> {
    if ((await packageStatus()) !== 'not-installed') await dpkg(['--purge', 'gridkeeper']);
    fs.rmSync(SITE_FILE, { force: true });
    fs.rmSync(WANTS_LINK, { force: true });
    fs.rmSync(REQUIRES_LINK, { force: true });
    if (fs.existsSync(REQUIRES_DIR) && fs.readdirSync(REQUIRES_DIR).length === 0) fs.rmdirSync(REQUIRES_DIR);
    if (fs.existsSync('/etc/gridkeeper') && fs.readdirSync('/etc/gridkeeper').length === 0) fs.rmdirSync('/etc/gridkeeper');
    // The package leaves its system user on purge (Debian practice); the test leaves the machine as it found it.
    if (!userBefore) await removeUser();
  }

  it('puts gridkeeper on the PATH and creates the user; a purge leaves no file of it behind', async (ctx) => {
    if (!usable) ctx.skip();
    const installed = await dpkg(['-i', deb]);
    expect(installed.code, installed.output).toBe(0);
    expect(await packageStatus()).toBe('installed');

    const version = await run('/usr/bin/gridkeeper', ['--version']);
    expect(version.code, version.output).toBe(0);
    expect(version.stdout.trim()).toBe(`gridkeeper ${VERSION}`);
    const user = await run('getent', ['passwd', 'gridkeeper']);
    expect(user.stdout).toMatch(/^gridkeeper:x:\d+:\d+:[^:]*:\/nonexistent:\/usr\/sbin\/nologin$/m);
    expect((await run('id', ['-nG', 'gridkeeper'])).stdout.split(/\s+/)).toContain('dialout');
    const etc = fs.statSync('/etc/gridkeeper');
    expect(etc.mode & 0o777).toBe(0o750);
    expect((await run('stat', ['-c', '%U:%G', '/etc/gridkeeper'])).stdout.trim()).toBe('root:gridkeeper');

    const purged = await dpkg(['--purge', 'gridkeeper']);
    expect(purged.code, purged.output).toBe(0);
    expect(await packageStatus()).toBe('not-installed');
    expect(await leftovers()).toEqual([]);
    expect(fs.existsSync('/etc/gridkeeper')).toBe(false);
    expect(fs.readdirSync('/var/lib/dpkg/info').filter((f) => f.startsWith('gridkeeper.'))).toEqual([]);
    // Kept on purge, as Debian packages keep their system users.
    expect(await userExists()).toBe(true);
  }, 300_000);

  it('falls back to useradd without systemd-sysusers; purge keeps the site files and drops the enablement links', async (ctx) => {
    if (!usable) ctx.skip();
    if (!userBefore) await removeUser();
    // A systemd-sysusers that fails, first on the PATH that dpkg hands to the maintainer scripts.
    const stubs = makeTempDir('no-sysusers');
    tempDirs.push(stubs);
    fs.writeFileSync(path.join(stubs, 'systemd-sysusers'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const installed = await dpkg(['-i', deb], { PATH: `${stubs}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` });
    expect(installed.code, installed.output).toBe(0);
    expect(installed.stderr).toMatch(/creating the user gridkeeper with useradd/);
    expect((await run('getent', ['passwd', 'gridkeeper'])).stdout).toMatch(/:\/nonexistent:\/usr\/sbin\/nologin$/m);
    expect((await run('id', ['-nG', 'gridkeeper'])).stdout.split(/\s+/)).toContain('dialout');

    // An administrator's site, readable by the agent's user, enabled as `systemctl enable` would.
    fs.copyFileSync(`/${SAMPLE}`, SITE_FILE);
    await run('chown', ['root:gridkeeper', SITE_FILE]);
    fs.chmodSync(SITE_FILE, 0o640);
    const asAgent = await run('setpriv', ['--reuid=gridkeeper', '--regid=gridkeeper', '--init-groups', '/usr/bin/gridkeeper', 'validate', '--config', SITE_FILE]);
    expect(asAgent.code, asAgent.output).toBe(0);
    fs.mkdirSync(path.dirname(WANTS_LINK), { recursive: true });
    fs.symlinkSync('/usr/lib/systemd/system/gridkeeper@.service', WANTS_LINK);
    fs.mkdirSync(REQUIRES_DIR, { recursive: true });
    fs.symlinkSync('/lib/systemd/system/gridkeeper-package-test.service', REQUIRES_LINK);

    const purged = await dpkg(['--purge', 'gridkeeper']);
    expect(purged.code, purged.output).toBe(0);
    expect(isLink(WANTS_LINK)).toBe(false);
    expect(fs.existsSync(REQUIRES_DIR)).toBe(false);
    // The site file is the administrator's: it stays, and dpkg says why /etc/gridkeeper does.
    expect(fs.readdirSync('/etc/gridkeeper')).toEqual([path.basename(SITE_FILE)]);
    expect(purged.stderr).toMatch(/directory '\/etc\/gridkeeper' not empty so not removed/);
    expect((await leftovers()).filter((p) => p !== '/etc/gridkeeper')).toEqual([]);
  }, 300_000);
});
