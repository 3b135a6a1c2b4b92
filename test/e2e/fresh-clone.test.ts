// As a new user would (README, quick start): clone the repository, `npm ci`, `npm run demo`.
// The demo must exit 0 and leave no process behind. Slow (a native build and a whole site), so
// it has its own file and a 5 minute budget.
//
// It clones the COMMITTED HEAD of this work tree (uncommitted changes are not in the clone), and
// npm installs from its cache first (--prefer-offline), as CI does after the first run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllChildren, REPO_ROOT, runToCompletion } from '../../tools/devtools/processes.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';

const NPM = 'npm';
// npm must see a plain environment: NODE_ENV=production (or test tooling variables) would change
// what `npm ci` installs. GRIDKEEPER_TEST_PID_DIR stays: the demo's children are recorded there, so
// the global teardown kills them even if the demo itself had to be killed.
const USER_ENV = { NODE_ENV: undefined, NODE_OPTIONS: undefined, VITEST: undefined, VITEST_MODE: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined };

afterAll(async () => {
  await killAllChildren();
});

/** Pids of processes whose command line or working directory is inside `dir`. */
function processesInside(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // another user's process: its cwd is not readable; its command line still is
      }
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // a zombie waits for its parent only
      if (cmdline.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) found.push(`${pid}: ${cmdline.trim()} (cwd ${cwd})`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

describe('fresh clone', () => {
  it('git clone, npm ci, npm run demo: exit 0 and no process left behind', { timeout: 300_000 }, async () => {
    const clone = path.join(makeTempDir('clone'), 'gridkeeper');

    const cloned = await runToCompletion('git', ['clone', '--quiet', REPO_ROOT, clone], { timeoutMs: 60_000 });
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(fs.existsSync(path.join(clone, 'package-lock.json'))).toBe(true);
    // A fresh clone has neither dependencies nor a build.
    expect(fs.existsSync(path.join(clone, 'node_modules'))).toBe(false);
    expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);

    // The README's install line. It builds the native modules (zookeeper, serialport) and, through
    // the prepare script, dist/. Up to 4 minutes on 2 shared cores.
    const ci = await runToCompletion(NPM, ['ci', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: clone, env: USER_ENV, timeoutMs: 240_000 });
    expect(ci.timedOut, 'npm ci took longer than 4 minutes').toBe(false);
    expect(ci.code, `npm ci failed:\n${ci.stdout}\n${ci.stderr}`).toBe(0);
    expect(fs.existsSync(path.join(clone, 'dist', 'cli', 'main.js'))).toBe(true);

    // The README's quick start: a whole site in under a minute (the budget here is 2 minutes).
    const demo = await runToCompletion(NPM, ['run', 'demo'], { cwd: clone, env: USER_ENV, timeoutMs: 120_000 });
    const output = `${demo.stdout}\n${demo.stderr}`;
    expect(demo.timedOut, `npm run demo did not finish within 2 minutes:\n${output}`).toBe(false);
    expect(demo.code, `npm run demo failed:\n${output}`).toBe(0);
    // The story the demo tells: a leader, a setpoint applied, a takeover, the next setpoint applied.
    expect(demo.stdout).toMatch(/holds the site lock/);
    expect(demo.stdout).toMatch(/applied: pv-2\.activePowerLimit = 30 by gw-[ab]/);
    expect(demo.stdout).toMatch(/SunSpec inverter output follows the limit: [\d.]+ kW -> 4\.50 kW/);
    expect(demo.stdout).toMatch(/took over in \d+ ms/);
    expect(demo.stdout).toMatch(/applied: wt-1\.curtailmentSetpoint = 800 by gw-[ab]/);
    expect(demo.stdout).toMatch(/all processes stopped/);

    // Nothing left running: neither by command line (`pgrep -f` on the clone's path) nor by working
    // directory (ZooKeeper's JVM and socat run from the clone but name only temp paths).
    const pgrep = await runToCompletion('pgrep', ['-a', '-f', clone], { timeoutMs: 10_000 });
    expect(pgrep.stdout.trim(), 'processes left behind (pgrep -f)').toBe('');
    expect(pgrep.code).toBe(1); // pgrep: 1 = no process matched
    expect(processesInside(clone)).toEqual([]);
  });
});
