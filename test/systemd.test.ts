// systemd/gridkeeper@.service passes `systemd-analyze verify` unchanged, keeps the settings the
// contract and the sandbox depend on, and sysusers.d/gridkeeper.conf creates the user in dialout.
//
// How verify is run: `verify` checks that ExecStart's binary exists and is executable, and
// gridkeeper is not installed on the test machine. Rather than edit the unit, verify runs with
// --root on a throwaway root that holds a copy of the system's units (the service depends on
// sysinit.target, network-online.target, ...), our unit in etc/systemd/system, and an empty
// executable at usr/local/bin/gridkeeper, where `npm install -g` puts it. With --root, systemd
// resolves ExecStart's bare command name inside that root, so this also proves the name resolves.
// verify checks ExecReload's /bin/kill the same way: the root gets a stub of it too, at usr/bin
// with bin a link to it (merged /usr, as on Debian 12).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runToCompletion } from '../tools/devtools/processes.js';
import { makeTempDir, removeTempDir } from '../tools/devtools/temp-dirs.js';

const UNIT_FILE = path.join(REPO_ROOT, 'systemd', 'gridkeeper@.service');
const SYSUSERS_FILE = path.join(REPO_ROOT, 'systemd', 'sysusers.d', 'gridkeeper.conf');
const SYSTEM_UNITS = '/usr/lib/systemd/system';
const INSTANCE = 'gridkeeper@north-farm.service';

/** `[section] key=value` lines of a unit file; repeated keys keep every value in order. */
function parseUnit(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1] ?? '';
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not a key=value line in ${UNIT_FILE}: ${line}`);
    const key = `${section}.${line.slice(0, eq).trim()}`;
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return settings;
}

/** A root with the system's units, our unit, and a stub gridkeeper at `binDir` (e.g. usr/local/bin). */
function makeRoot(binDir: string | null): string {
  const root = makeTempDir('systemd-root');
  fs.mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
  // verbatimSymlinks: masked units link to /dev/null; keep the links as they are.
  fs.cpSync(SYSTEM_UNITS, path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  fs.copyFileSync(UNIT_FILE, path.join(root, 'etc/systemd/system', path.basename(UNIT_FILE)));
  fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  fs.writeFileSync(path.join(root, 'usr/bin/kill'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  fs.symlinkSync('usr/bin', path.join(root, 'bin'));
  if (binDir !== null) {
    fs.mkdirSync(path.join(root, binDir), { recursive: true });
    fs.writeFileSync(path.join(root, binDir, 'gridkeeper'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  }
  return root;
}

function analyze(args: string[]) {
  return runToCompletion('systemd-analyze', args, { timeoutMs: 30_000 });
}

describe('systemd unit', () => {
  const roots: string[] = [];
  let unit: Map<string, string[]>;
  const one = (key: string): string | undefined => {
    const values = unit.get(key);
    return values?.[values.length - 1];
  };

  beforeAll(() => {
    unit = parseUnit(fs.readFileSync(UNIT_FILE, 'utf8'));
  });
  afterAll(() => roots.forEach(removeTempDir));

  it('passes systemd-analyze verify without a warning', async () => {
    const root = makeRoot('usr/local/bin');
    roots.push(root);
    const result = await analyze(['verify', '--man=no', `--root=${root}`, INSTANCE]);
    expect(result.stderr + result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it('finds the binary in /usr/bin too (npm prefix /usr), and fails when there is none', async () => {
    const usrBin = makeRoot('usr/bin');
    const none = makeRoot(null);
    roots.push(usrBin, none);
    expect((await analyze(['verify', '--man=no', `--root=${usrBin}`, INSTANCE])).code).toBe(0);
    const missing = await analyze(['verify', '--man=no', `--root=${none}`, INSTANCE]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/Command gridkeeper is not executable/);
  });

  it('has an overall exposure of at most 2.0 in systemd-analyze security', async () => {
    const root = makeRoot('usr/local/bin');
    roots.push(root);
    // --threshold is on the 0..100 scale of which the report prints a tenth: 20 = "2.0".
    const result = await analyze(['security', '--offline=true', '--threshold=20', `--root=${root}`, INSTANCE]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/Overall exposure level for gridkeeper@north-farm\.service: [0-9.]+ OK/);
  });

  it('runs one site per instance with the contract exit codes', () => {
    expect(one('Service.ExecStart')).toBe('gridkeeper run --config /etc/gridkeeper/%i.yaml');
    // Type=notify with the watchdog (src/agent/systemd-notify.ts): READY=1 once the buses are
    // started, WATCHDOG=1 every WatchdogSec/2 while the poll loop runs, only from the agent itself.
    expect(one('Service.Type')).toBe('notify');
    expect(one('Service.NotifyAccess')).toBe('main');
    expect(one('Service.WatchdogSec')).toBe('30');
    // SIGTERM on a watchdog timeout: the agent's own shutdown releases the lock at once.
    expect(one('Service.WatchdogSignal')).toBe('SIGTERM');
    // `systemctl reload`: SIGHUP re-reads the site file on the running session (src/agent/reload.ts).
    expect(one('Service.ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(one('Service.User')).toBe('gridkeeper');
    expect(one('Service.Group')).toBe('gridkeeper');
    expect(one('Service.SupplementaryGroups')).toBe('dialout');
    expect(one('Service.Restart')).toBe('on-failure');
    expect(one('Service.RestartSec')).toBe('2');
    expect(one('Service.RestartPreventExitStatus')).toBe('78');
    expect(one('Service.Environment')).toBe('NODE_ENV=production');
    // The agent exits within 5 s of SIGTERM; systemd must not SIGKILL it before that.
    expect(Number(one('Service.TimeoutStopSec'))).toBeGreaterThan(5);
    expect(one('Install.WantedBy')).toBe('multi-user.target');
  });

  it('is sandboxed, with serial ports reachable and V8 able to JIT', () => {
    for (const [key, value] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'no'],
      ['DevicePolicy', 'closed'],
      ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
      ['CapabilityBoundingSet', ''],
      ['AmbientCapabilities', ''],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectKernelModules', 'yes'],
      ['ProtectControlGroups', 'yes'],
      ['ProtectClock', 'yes'],
      ['ProtectHostname', 'yes'],
      ['RestrictNamespaces', 'yes'],
      ['LockPersonality', 'yes'],
      ['RestrictRealtime', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['SystemCallArchitectures', 'native'],
      ['ReadOnlyPaths', '/etc/gridkeeper'],
      ['MemoryMax', '256M'],
    ]) {
      expect(one(`Service.${key}`), key).toBe(value);
    }
    expect(unit.get('Service.SystemCallFilter')).toContain('@system-service');
    expect(unit.get('Service.DeviceAllow')).toEqual(
      expect.arrayContaining(['char-ttyS rw', 'char-ttyUSB rw', 'char-ttyACM rw', 'char-ttyAMA rw']),
    );
    expect(unit.has('Service.MemoryDenyWriteExecute')).toBe(false);
    expect(unit.has('Service.PrivateUsers')).toBe(false);
  });
});

describe('sysusers.d/gridkeeper.conf', () => {
  let root: string;
  afterAll(() => removeTempDir(root));

  it('creates the system user gridkeeper, member of the existing dialout group', async () => {
    root = makeTempDir('sysusers-root');
    fs.mkdirSync(path.join(root, 'etc'));
    // As on Debian: dialout exists with gid 20 before the package is installed.
    fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\ndialout:x:20:\n');
    fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    const result = await runToCompletion('systemd-sysusers', [`--root=${root}`, SYSUSERS_FILE]);
    expect(result.code, result.stderr).toBe(0);
    const passwd = fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    const group = fs.readFileSync(path.join(root, 'etc/group'), 'utf8');
    const user = /^gridkeeper:x:(\d+):(\d+):[^:]*:\/nonexistent:\/usr\/sbin\/nologin$/m.exec(passwd);
    expect(user, passwd).not.toBeNull();
    expect(Number(user?.[1])).toBeLessThan(1000); // a system user
    expect(group).toMatch(/^dialout:x:20:gridkeeper$/m);
    expect(group).toMatch(new RegExp(`^gridkeeper:x:${user?.[2]}:$`, 'm'));
  });
});

describe('systemd unit of the TLS tunnel to ZooKeeper', () => {
  const TUNNEL_UNIT = 'gridkeeper-zk-tunnel.service';
  const roots: string[] = [];
  afterAll(() => roots.forEach(removeTempDir));

  /** The gridkeeper root above, plus the tunnel unit and a stub stunnel4 at /usr/bin. */
  function makeTunnelRoot(): string {
    const root = makeRoot('usr/local/bin');
    roots.push(root);
    fs.copyFileSync(path.join(REPO_ROOT, 'systemd', TUNNEL_UNIT), path.join(root, 'etc/systemd/system', TUNNEL_UNIT));
    fs.mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
    fs.writeFileSync(path.join(root, 'usr/bin/stunnel4'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    return root;
  }

  it('passes systemd-analyze verify without a warning, together with an agent instance', async () => {
    const root = makeTunnelRoot();
    const result = await analyze(['verify', '--man=no', `--root=${root}`, TUNNEL_UNIT, INSTANCE]);
    expect(result.stderr + result.stdout).toBe('');
    expect(result.code).toBe(0);
  });

  it('is required by every agent instance once enabled, and agents start after it', () => {
    const tunnel = parseUnit(fs.readFileSync(path.join(REPO_ROOT, 'systemd', TUNNEL_UNIT), 'utf8'));
    expect(tunnel.get('Install.RequiredBy')).toEqual(['gridkeeper@.service']);
    expect(tunnel.get('Service.ExecStart')).toEqual(['/usr/bin/stunnel4 /etc/gridkeeper/zk-tunnel.conf']);
    expect(tunnel.get('Service.User')).toEqual(['gridkeeper']);
    const agent = parseUnit(fs.readFileSync(UNIT_FILE, 'utf8'));
    expect(agent.get('Unit.After')).toContain('gridkeeper-zk-tunnel.service');
  });

  it('has an overall exposure of at most 2.0 in systemd-analyze security', async () => {
    const root = makeTunnelRoot();
    const result = await analyze(['security', '--offline=true', '--threshold=20', `--root=${root}`, TUNNEL_UNIT]);
    expect(result.code, result.stdout).toBe(0);
  });
});
