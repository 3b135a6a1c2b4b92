// Loading good configs and profiles: defaults, profile merging, the whole-problem list, limits.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, formatProblem } from '../../src/config/errors.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { defaultProfilesDir, loadProfile, profileNames } from '../../src/config/profiles.js';
import { estimateSnapshotBytes, MAX_SNAPSHOT_BYTES } from '../../src/config/snapshot-size.js';

const tmp = mkdtempSync(join(tmpdir(), 'gridkeeper-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function problemsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('no ConfigError thrown');
}

describe('the example config', () => {
  it('loads with its devices, profiles merged and defaults filled in', () => {
    const cfg = loadConfig('config/example-site.yaml');
    expect(cfg.file).toBe('config/example-site.yaml');
    expect(cfg.site).toBe('example-site');
    expect(cfg.agent.id).toBe('gw-a');
    expect(cfg.zookeeper).toEqual({ connect: '127.0.0.1:2181', root: '/gridkeeper', sessionTimeoutMs: 10000 });
    expect(cfg.http.listen).toBe('127.0.0.1:8780');
    expect(cfg.buses).toEqual([
      { id: 'lan', type: 'tcp', host: '127.0.0.1', port: 15020, timeoutMs: 1000, pauseMs: 0, leaderOnly: false },
      { id: 'bms-lan', type: 'tcp', host: '127.0.0.1', port: 15021, timeoutMs: 1000, pauseMs: 0, leaderOnly: false },
    ]);
    expect(cfg.devices.map((d) => [d.id, d.kind, d.bus, d.unitId, d.profile])).toEqual([
      ['inv-1', 'inverter', 'lan', 1, 'generic-inverter'],
      ['wt-1', 'turbine', 'lan', 2, 'generic-turbine'],
      ['bms-1', 'bms', 'bms-lan', 1, 'generic-bms'],
    ]);
    for (const d of cfg.devices) expect(d.points).toEqual(loadProfile(d.profile ?? ''));
  });
});

// The simulator keys its physics off these names; a profile must keep them.
const REQUIRED_POINTS: Record<string, string[]> = {
  'generic-inverter': [
    'activePower', 'energyTotal', 'voltageL1', 'voltageL2', 'voltageL3', 'currentL1', 'currentL2', 'currentL3',
    'frequency', 'dcPower', 'temperature', 'state', 'activePowerLimit', 'enabled', 'serialNumber', 'W_SF',
  ],
  'generic-turbine': [
    'windSpeed', 'rotorSpeed', 'activePower', 'pitchAngle', 'yawAngle', 'state', 'curtailmentSetpoint', 'running', 'energyTotal', 'alarm',
  ],
  'generic-bms': [
    'stateOfCharge', 'stateOfHealth', 'packVoltage', 'packCurrent', 'temperatureMin', 'temperatureMax', 'cellVoltageMin',
    'cellVoltageMax', 'alarmOverVoltage', 'alarmUnderVoltage', 'alarmOverTemperature', 'chargeCurrentLimit', 'dischargeCurrentLimit',
  ],
};

describe('built-in profiles', () => {
  it('are listed by name', () => {
    expect(profileNames()).toEqual(['generic-bms', 'generic-inverter', 'generic-turbine']);
  });

  it.each(Object.keys(REQUIRED_POINTS))('%s loads with the points an operator expects', (name) => {
    const points = loadProfile(name);
    expect(points.length).toBeGreaterThanOrEqual(10);
    expect(points.map((p) => p.name)).toEqual(expect.arrayContaining(REQUIRED_POINTS[name] ?? []));
    for (const p of points.filter((q) => q.access !== 'read' && q.type !== 'bool')) {
      expect(p.min, `${name}.${p.name}.min`).toBeDefined();
      expect(p.max, `${name}.${p.name}.max`).toBeDefined();
    }
  });

  it('exercise every table, both word orders and the special types between them', () => {
    const all = Object.keys(REQUIRED_POINTS).flatMap((n) => loadProfile(n));
    expect(new Set(all.map((p) => p.table))).toEqual(new Set(['holding', 'input', 'coil', 'discrete']));
    expect(new Set(all.filter((p) => ['int32', 'uint32', 'float32', 'int64', 'uint64'].includes(p.type)).map((p) => p.wordOrder))).toEqual(
      new Set(['big', 'little']),
    );
    expect(all.some((p) => p.byteOrder === 'little')).toBe(true);
    for (const t of ['int16', 'uint16', 'int32', 'uint32', 'float32', 'bool', 'string']) expect(all.some((p) => p.type === t), t).toBe(true);
    expect(all.some((p) => p.type === 'int64' || p.type === 'uint64')).toBe(true);
    expect(all.some((p) => p.bit !== undefined)).toBe(true);
    expect(all.some((p) => p.scaleFactor !== undefined)).toBe(true);
  });

  it('inverter: activePower is scaled by the int16 W_SF', () => {
    const points = loadProfile('generic-inverter');
    const power = points.find((p) => p.name === 'activePower');
    expect(power?.scaleFactor).toBe('W_SF');
    expect(points.find((p) => p.name === 'W_SF')?.type).toBe('int16');
  });

  it('an invalid profile is a ConfigError naming the profile file and its lines', () => {
    // A directory of our own, so that the package's profiles/ is never touched.
    const dir = join(tmp, 'profiles-bad');
    mkdirSync(dir);
    writeFileSync(join(dir, 'broken.yaml'), 'points:\n  - { name: a, address: 0, type: uint16 }\n  - { name: b, table: coil, address: 0, type: int32 }\n');
    const err = problemsOf(() => loadProfile('broken', dir));
    expect(err.problems).toEqual([
      { file: join(dir, 'broken.yaml'), line: 3, path: 'points[1].type', message: 'int32 does not fit table coil: coils and discrete inputs hold single bits (type bool)' },
    ]);

    // Through a config, the profile's problems are reported with the profile file.
    const cfgErr = problemsOf(() =>
      parseConfig('site: s\nzookeeper: { connect: "a:1" }\nbuses: [{ id: l, type: tcp, host: h }]\ndevices:\n  - { id: d, kind: other, bus: l, profile: broken }\n', 'c.yaml', {
        profilesDir: dir,
      }),
    );
    expect(cfgErr.problems.map(formatProblem)).toEqual([
      `${join(dir, 'broken.yaml')}:3: points[1].type: int32 does not fit table coil: coils and discrete inputs hold single bits (type bool)`,
    ]);
  });

  it('resolves profiles/ from the package root', () => {
    expect(defaultProfilesDir()).toBe(join(process.cwd(), 'profiles'));
  });
});


const MINIMAL = 'site: s\nzookeeper:\n  connect: "zk1:2181,zk2:2181"\n';

describe('defaults', () => {
  it('fill in every optional key', () => {
    const cfg = parseConfig(
      MINIMAL +
        'buses:\n  - { id: lan, type: tcp, host: 10.0.0.5 }\n  - { id: rs, type: rtu, path: /dev/ttyUSB0 }\n' +
        'devices:\n  - { id: m, kind: meter, bus: rs, points: [{ name: p, address: 3, type: uint16 }] }\n',
      'c.yaml',
      { hostname: 'gw-north' },
    );
    expect(cfg).toEqual({
      file: 'c.yaml',
      site: 's',
      agent: { id: 'gw-north' },
      zookeeper: { connect: 'zk1:2181,zk2:2181', root: '/gridkeeper', sessionTimeoutMs: 10000 },
      publish: { intervalMs: 1000, maxIntervalMs: 60000 },
      control: { commandTtlMs: 60000, verifyWrites: true, resultsKept: 1000, resultsMaxAgeMs: 604800000 },
      http: { listen: '127.0.0.1:8780' },
      log: { level: 'info' },
      buses: [
        { id: 'lan', type: 'tcp', host: '10.0.0.5', port: 502, timeoutMs: 1000, pauseMs: 0, leaderOnly: false },
        { id: 'rs', type: 'rtu', path: '/dev/ttyUSB0', baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1, timeoutMs: 1000, pauseMs: 5, leaderOnly: false },
      ],
      devices: [
        {
          id: 'm', kind: 'meter', bus: 'rs', unitId: 1, pollIntervalMs: 1000,
          points: [{ name: 'p', table: 'holding', address: 3, type: 'uint16', wordOrder: 'big', byteOrder: 'big', scale: 1, offset: 0, access: 'read' }],
        },
      ],
    });
  });

  it('agent id defaults to the host name, reduced to the id pattern', () => {
    expect(parseConfig(MINIMAL, 'c.yaml', { hostname: 'gw a+b' }).agent.id).toBe('gw-a-b');
    expect(parseConfig(MINIMAL, 'c.yaml', { hostname: 'x'.repeat(80) }).agent.id).toBe('x'.repeat(64));
    expect(parseConfig(MINIMAL, 'c.yaml', { hostname: '' }).agent.id).toBe('gridkeeper');
  });

  it('a section left empty (its keys commented out) is the same as no section', () => {
    const cfg = parseConfig(MINIMAL + 'agent:\n  # id: gw-a\nhttp:\nbuses:\ndevices:\n', 'c.yaml', { hostname: 'h1' });
    expect(cfg.agent.id).toBe('h1');
    expect(cfg.http.listen).toBe('127.0.0.1:8780');
    expect(cfg.buses).toEqual([]);
  });

  it('a TCP host may be a name, IPv4 or bare IPv6 address', () => {
    const cfg = parseConfig(MINIMAL + 'buses:\n  - { id: a, type: tcp, host: "::1" }\n  - { id: b, type: tcp, host: plc-7.site.local }\n', 'c.yaml');
    expect(cfg.buses.map((b) => (b.type === 'tcp' ? b.host : ''))).toEqual(['::1', 'plc-7.site.local']);
  });

  it('http.listen false turns the endpoint off', () => {
    expect(parseConfig(MINIMAL + 'http:\n  listen: false\n', 'c.yaml').http.listen).toBe(false);
    expect(parseConfig(MINIMAL + 'http:\n  listen: "[::1]:0"\n', 'c.yaml').http.listen).toBe('[::1]:0');
  });
});

describe('profile merging', () => {
  const device = (points: string): string =>
    MINIMAL + 'buses: [{ id: lan, type: tcp, host: h }]\ndevices:\n  - id: inv\n    kind: inverter\n    bus: lan\n    profile: generic-inverter\n    points:\n' + points;

  it('a device point with a profile point name replaces that point whole, in its place', () => {
    const cfg = parseConfig(device('      - { name: activePowerLimit, address: 120, type: uint16, access: readwrite, min: 0, max: 80 }\n'), 'c.yaml');
    const profile = loadProfile('generic-inverter');
    const points = cfg.devices[0]?.points ?? [];
    expect(points.map((p) => p.name)).toEqual(profile.map((p) => p.name));
    // Replaced whole: keys not given (scale 0.1, unit %) are back to their defaults.
    expect(points.find((p) => p.name === 'activePowerLimit')).toEqual({
      name: 'activePowerLimit', table: 'holding', address: 120, type: 'uint16', wordOrder: 'big', byteOrder: 'big',
      scale: 1, offset: 0, access: 'readwrite', min: 0, max: 80,
    });
  });

  it('other device points are added after the profile points', () => {
    const cfg = parseConfig(device('      - { name: gridCode, address: 200, type: uint16 }\n'), 'c.yaml');
    const points = cfg.devices[0]?.points ?? [];
    expect(points.at(-1)?.name).toBe('gridCode');
    expect(points).toHaveLength(loadProfile('generic-inverter').length + 1);
  });
});

describe('SunSpec devices', () => {
  const device = (extra: string): string =>
    MINIMAL + 'buses: [{ id: lan, type: tcp, host: h }]\ndevices:\n  - id: pv\n    kind: inverter\n    bus: lan\n    profile: sunspec\n' + extra;

  it('need no points, and get the defaults of the sunspec block', () => {
    const cfg = parseConfig(device(''), 'c.yaml');
    expect(cfg.devices[0]).toMatchObject({ profile: 'sunspec', points: [], sunspec: { baseAddress: 'auto', index: 1, models: [], revertSeconds: 60 } });
  });

  it('keep the block as written, and their points as extras', () => {
    const cfg = parseConfig(
      device('    sunspec: { baseAddress: 50000, index: 2, models: [1, 103, 123], revertSeconds: 300 }\n    points:\n      - { name: gridCode, address: 200, type: uint16 }\n'),
      'c.yaml',
    );
    expect(cfg.devices[0]?.sunspec).toEqual({ baseAddress: 50000, index: 2, models: [1, 103, 123], revertSeconds: 300 });
    expect(cfg.devices[0]?.points.map((p) => p.name)).toEqual(['gridCode']);
  });

  it('count for a discovered device in the snapshot estimate', () => {
    const plain = parseConfig(device('').replace('profile: sunspec', 'profile: generic-inverter'), 'c.yaml');
    const sunspec = parseConfig(device(''), 'c.yaml');
    expect(estimateSnapshotBytes(sunspec)).toBeGreaterThan(estimateSnapshotBytes(plain) + 10_000);
  });

  it('only devices with profile sunspec have the block', () => {
    const cfg = parseConfig(device('').replace('profile: sunspec', 'profile: generic-inverter'), 'c.yaml');
    expect(cfg.devices[0]?.sunspec).toBeUndefined();
  });
});

describe('all problems at once', () => {
  it('are reported together, sorted by line, each with its path', () => {
    const err = problemsOf(() =>
      parseConfig(
        [
          'site: s',
          'zookeeper:',
          '  connect: "a:1"',
          '  sessionTimeoutMs: 2000',
          'buses:',
          '  - { id: lan, type: tcp, host: h, timeoutMs: 600 }',
          'devices:',
          '  - id: d',
          '    kind: meter',
          '    bus: nope',
          '    points:',
          '      - { name: a, address: 0, type: float32, table: coil }',
          '      - { name: b, address: 0, type: uint16, access: write }',
          'extra: 1',
        ].join('\n'),
        'multi.yaml',
      ),
    );
    expect(err.problems.map(formatProblem)).toEqual([
      `multi.yaml:6: buses[0].timeoutMs: must be at most zookeeper.sessionTimeoutMs / 4 = 500: a write in flight must end before the ZooKeeper session can expire and another agent take the site lock`,
      "multi.yaml:10: devices[0].bus: unknown bus 'nope' (buses: lan)",
      'multi.yaml:12: devices[0].points[0].type: float32 does not fit table coil: coils and discrete inputs hold single bits (type bool)',
      'multi.yaml:13: devices[0].points[1].max: required for a writable numeric point',
      'multi.yaml:13: devices[0].points[1].min: required for a writable numeric point',
      'multi.yaml:14: extra: unknown key',
    ]);
    expect(err.message).toBe(`invalid configuration: ${formatProblem(err.problems[0] ?? { file: '', line: 0, path: '', message: '' })} (and 5 more)`);
  });

  it('a broken device does not hide the problems of the others', () => {
    const err = problemsOf(() =>
      parseConfig(
        MINIMAL +
          'buses: [{ id: lan, type: tcp, host: h }]\n' +
          'devices:\n' +
          '  - { id: a, kind: meter, bus: lan, unitId: 999, profile: generic-bms }\n' +
          '  - { id: b, kind: meter, bus: wan, profile: generic-bms }\n',
        'c.yaml',
      ),
    );
    expect(err.problems.map((p) => [p.line, p.path, p.message])).toEqual([
      [6, 'devices[0].unitId', 'must be an integer from 0 to 247'],
      [7, 'devices[1].bus', "unknown bus 'wan' (buses: lan)"],
    ]);
  });
});

describe('readings snapshot size', () => {
  // Each device: 500 strings of 125 registers (250 characters) in holding, ~137 kB of JSON.
  const bigDevice = (i: number): string => {
    const points = Array.from({ length: 500 }, (_, j) => `      - { name: s${j}, address: ${j * 125}, type: string, length: 125 }`).join('\n');
    return `  - id: d${i}\n    kind: other\n    bus: lan\n    unitId: ${i + 1}\n    points:\n${points}\n`;
  };
  const site = (devices: number): string =>
    MINIMAL + 'buses: [{ id: lan, type: tcp, host: h }]\ndevices:\n' + Array.from({ length: devices }, (_, i) => bigDevice(i)).join('');

  it('a config whose snapshot fits is accepted, with its estimate', () => {
    const cfg = parseConfig(site(7), 'c.yaml');
    const bytes = estimateSnapshotBytes(cfg);
    expect(bytes).toBeGreaterThan(7 * 500 * 250);
    expect(bytes).toBeLessThanOrEqual(MAX_SNAPSHOT_BYTES);
  });

  it('a config whose snapshot could exceed 1,000,000 bytes is refused, naming the estimate', () => {
    const err = problemsOf(() => parseConfig(site(8), 'c.yaml'));
    expect(err.problems).toHaveLength(1);
    const p = err.problems[0];
    expect(p?.path).toBe('devices');
    expect(p?.line).toBe(5);
    const estimate = Number(/about (\d+) bytes/.exec(p?.message ?? '')?.[1]);
    expect(estimate).toBeGreaterThan(MAX_SNAPSHOT_BYTES);
    expect(p?.message).toBe(
      `the readings snapshot could reach about ${estimate} bytes, over the limit of 1000000 (ZooKeeper refuses a znode over about 1 MB): use fewer or shorter points, or split the site`,
    );
  });
});

describe('loadConfig', () => {
  it('an unreadable file is a ConfigError at line 1', () => {
    const file = join(tmp, 'missing.yaml');
    const err = problemsOf(() => loadConfig(file));
    expect(err.problems).toEqual([{ file, line: 1, path: '', message: 'cannot read the config file: no such file' }]);
  });

  it('reads a file and keeps its name as given', () => {
    const file = join(tmp, 'ok.yaml');
    writeFileSync(file, MINIMAL);
    expect(loadConfig(file).file).toBe(file);
  });
});
