// Held setpoints' fallbacks in the config (CONTRACT.md section 7): the profiles declare them, a
// device's points and its watchdog are checked strictly, and the timing rule of
// config/fallback-timing.ts is refused (exit 78 from validate) naming the key that sets the window.
import { describe, expect, it } from 'vitest';
import { refreshIntervalMs, refreshWindows, takeoverBudgetMs, windowAllowsTakeover } from '../../src/config/fallback-timing.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { loadProfile } from '../../src/config/profiles.js';
import { problemsOf, type Problem } from './problems.js';

/** A site with one `other` device at line 9; its points start at line 14. `zk` and `bus` add keys. */
function site(opts: { points?: string[]; device?: string[]; zk?: string; bus?: string; profile?: string } = {}): string {
  return [
    'site: s',
    'zookeeper:',
    `  connect: "127.0.0.1:2181"${opts.zk ?? ''}`,
    'buses:',
    '  - id: lan',
    '    type: tcp',
    `    host: 127.0.0.1${opts.bus ?? ''}`,
    'devices:',
    '  - id: d1',
    '    kind: other',
    '    bus: lan',
    `    pollIntervalMs: 1000${opts.profile === undefined ? '' : `\n    profile: ${opts.profile}`}`,
    ...(opts.device ?? []).map((l) => `    ${l}`),
    ...(opts.points === undefined ? [] : ['    points:', ...opts.points.map((p) => `      - ${p}`)]),
    '',
  ].join('\n');
}

const LIMIT = '{ name: limit, address: 10, type: uint16, access: readwrite, min: 0, max: 100, fallback: { value: 100, revertTimer: { point: limitS, seconds: 60 } } }';
const TIMER = '{ name: limitS, address: 11, type: uint16, unit: s, access: readwrite, min: 0, max: 3600 }';

describe('fallbacks in the built-in profiles', () => {
  it('the generic inverter holds its limit, falling back to 100 % after 60 s by its own timer', () => {
    const points = loadProfile('generic-inverter');
    expect(points.find((p) => p.name === 'activePowerLimit')?.fallback).toEqual({ value: 100, revertTimer: { point: 'activePowerLimitRevertS', seconds: 60 } });
    expect(points.find((p) => p.name === 'activePowerLimitRevertS')).toMatchObject({ table: 'holding', address: 108, type: 'uint16', access: 'readwrite', unit: 's' });
  });

  it('the generic BMS holds both current limits on one timer, falling back to 100 A', () => {
    const points = loadProfile('generic-bms');
    for (const name of ['chargeCurrentLimit', 'dischargeCurrentLimit']) {
      expect(points.find((p) => p.name === name)?.fallback).toEqual({ value: 100, revertTimer: { point: 'currentLimitRevertS', seconds: 60 } });
    }
  });

  it('the example and the demo site are valid with them', () => {
    expect(() => loadConfig('config/example-site.yaml')).not.toThrow();
    expect(() => loadConfig('tools/demo/demo-site.yaml')).not.toThrow();
  });

  it('a device point and a watchdog resolve into the config', () => {
    const cfg = parseConfig(site({ points: [LIMIT, TIMER, '{ name: beat, address: 12, type: uint16, access: write, min: 0, max: 9 }'], device: ['watchdog: { point: beat, everyMs: 30000 }'] }), 'site.yaml');
    const d = cfg.devices[0];
    expect(d?.watchdog).toEqual({ point: 'beat', everyMs: 30000 });
    expect(d?.points[0]?.fallback).toEqual({ value: 100, revertTimer: { point: 'limitS', seconds: 60 } });
    expect(refreshWindows({ ...d!, sunspecRevertSeconds: undefined })).toEqual([
      { source: 'revertTimer', point: 'limit', windowMs: 60_000, writes: 1 },
      { source: 'watchdog', point: 'beat', windowMs: 30_000, writes: 1 },
    ]);
  });
});

describe('bad fallbacks and watchdogs: a clear config error at the key', () => {
  const cases: Array<[string, Parameters<typeof site>[0], Problem[]]> = [
    [
      'a revert timer naming a missing point',
      { points: [LIMIT.replace('point: limitS', 'point: nope')] },
      [{ line: 14, path: 'devices[0].points[0].fallback.revertTimer.point', message: "no point 'nope' in this device" }],
    ],
    [
      'a revert timer naming a read-only point',
      { points: [LIMIT, TIMER.replace('access: readwrite', 'access: read')] },
      [{ line: 14, path: 'devices[0].points[0].fallback.revertTimer.point', message: "point 'limitS' is read-only: the revert timer is programmed with every write, so it must be writable" }],
    ],
    [
      'a revert timer that is the point itself',
      { points: [LIMIT.replace('point: limitS', 'point: limit'), TIMER] },
      [{ line: 14, path: 'devices[0].points[0].fallback.revertTimer.point', message: 'the revert timer must be another point (a register holding the timeout, s)' }],
    ],
    [
      'seconds outside the timer register',
      { points: [LIMIT.replace('seconds: 60', 'seconds: 7200'), TIMER] },
      [{ line: 14, path: 'devices[0].points[0].fallback.revertTimer.seconds', message: "7200 is outside min..max of point 'limitS' (0..3600)" }],
    ],
    [
      'a fallback on a read-only point',
      { points: ['{ name: limit, address: 10, type: uint16, fallback: { value: 1, revertTimer: { point: limitS, seconds: 60 } } }', TIMER] },
      [{ line: 14, path: 'devices[0].points[0].fallback', message: "'limit' is read-only (access read): only a writable point can be held" }],
    ],
    [
      'a fallback value outside min..max',
      { points: [LIMIT.replace('value: 100', 'value: 101'), TIMER] },
      [{ line: 14, path: 'devices[0].points[0].fallback.value', message: "101 is outside the point's min..max (0..100)" }],
    ],
    [
      'a fallback without a revert timer on a device without a watchdog',
      { points: ['{ name: on, table: coil, address: 0, type: bool, access: readwrite, fallback: { value: false } }'] },
      [{ line: 14, path: 'devices[0].points[0].fallback', message: 'needs revertTimer, or a watchdog on the device: without either the device keeps the last value when every gateway is gone' }],
    ],
    [
      'an unknown key in a fallback',
      { points: ['{ name: limit, address: 10, type: uint16, access: readwrite, min: 0, max: 100, fallback: { value: 100, revertTimr: 60 } }'] },
      [{ line: 14, path: 'devices[0].points[0].fallback.revertTimr', message: 'unknown key (did you mean revertTimer?)' }],
    ],
    [
      'a watchdog on a read-only register',
      { points: ['{ name: beat, address: 12, type: uint16 }'], device: ['watchdog: { point: beat, everyMs: 30000 }'] },
      [{ line: 13, path: 'devices[0].watchdog.point', message: "point 'beat' is read-only: the lock holder must keep writing the watchdog register" }],
    ],
    [
      'a watchdog on a missing register',
      { points: ['{ name: beat, address: 12, type: uint16 }'], device: ['watchdog: { point: heartbeat, everyMs: 30000 }'] },
      [{ line: 13, path: 'devices[0].watchdog.point', message: "no point 'heartbeat' in this device" }],
    ],
  ];
  for (const [what, opts, expected] of cases) {
    it(what, () => expect(problemsOf(site(opts))).toEqual(expected));
  }
});

describe('the timing rule (fallback-timing.ts): 2/3 of the window > sessionTimeoutMs + 2 × pollIntervalMs + 1 s', () => {
  it('is arithmetic on integers', () => {
    expect(takeoverBudgetMs(3000, 300)).toBe(4600);
    expect(windowAllowsTakeover(7000, 3000, 300)).toBe(true); // 4667 > 4600
    expect(windowAllowsTakeover(6900, 3000, 300)).toBe(false); // 4600 is not more than 4600
    expect(refreshIntervalMs(60_000, 1000)).toBe(19_000);
  });

  it('a profile window too short for the session timeout is refused at the device’s profile key, naming the point and the key', () => {
    const yaml = site({ profile: 'generic-inverter', zk: '\n  sessionTimeoutMs: 40000' }).replace('kind: other', 'kind: inverter').replace('host: 127.0.0.1', 'host: 127.0.0.1\n    timeoutMs: 1000');
    expect(problemsOf(yaml)).toEqual([
      {
        line: 15,
        path: 'devices[0].profile',
        message:
          "point 'activePowerLimit' of profile generic-inverter: fallback.revertTimer.seconds: 60 s is too short: two thirds of the window (40000 ms) must exceed " +
          'zookeeper.sessionTimeoutMs + 2 × pollIntervalMs + 1000 = 40000 + 2 × 1000 + 1000 = 43000 ms, so that another agent can take over before the device falls back; at least 65',
      },
    ]);
  });

  it('a device point’s window, a watchdog and a SunSpec revertSeconds are refused at their own keys', () => {
    const short = LIMIT.replace('seconds: 60', 'seconds: 5');
    expect(problemsOf(site({ points: [short, TIMER] }))[0]).toMatchObject({ line: 14, path: 'devices[0].points[0].fallback.revertTimer.seconds', message: expect.stringMatching(/^5 s is too short: .* = 10000 \+ 2 × 1000 \+ 1000 = 13000 ms.*at least 20$/) });
    expect(problemsOf(site({ points: ['{ name: beat, address: 12, type: uint16, access: write, min: 0, max: 9 }'], device: ['watchdog: { point: beat, everyMs: 12000 }'] }))).toEqual([
      { line: 13, path: 'devices[0].watchdog.everyMs', message: expect.stringMatching(/^12000 ms is too short: two thirds of the window \(8000 ms\) .*; at least 19501$/) },
    ]);
    expect(problemsOf(site({ profile: 'sunspec', device: ['sunspec: { revertSeconds: 15 }'] }))).toEqual([
      { line: 14, path: 'devices[0].sunspec.revertSeconds', message: expect.stringMatching(/^15 s is too short: .*; at least 20$/) },
    ]);
  });

  it('refresh writes that the bus cannot fit are refused at the bus timeout', () => {
    const devices = Array.from({ length: 12 }, (_, i) =>
      [`  - id: inv-${i}`, '    kind: inverter', '    bus: lan', `    unitId: ${i + 1}`, '    profile: generic-inverter'].join('\n'),
    ).join('\n');
    const yaml = ['site: s', 'zookeeper:', '  connect: "127.0.0.1:2181"', 'buses:', '  - id: lan', '    type: tcp', '    host: 127.0.0.1', '    timeoutMs: 2000', 'devices:', devices, ''].join('\n');
    expect(problemsOf(yaml)).toEqual([
      {
        line: 8,
        path: 'buses[0].timeoutMs',
        message:
          'the bus cannot fit the refresh writes of its held setpoints: 12 writes × (timeoutMs 2000 + pauseMs 0) = 24000 ms in the worst case, more than the ' +
          'shortest refresh interval on it (19000 ms, devices[0]: a third of its window less its poll interval); lower timeoutMs or lengthen the windows (CONTRACT.md section 7)',
      },
    ]);
  });
});
