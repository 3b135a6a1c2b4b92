// Config of CONTRACT.md section 10: point deadbands (strict: >= 0, numeric points only, a profile's
// default replaced by a device point of the same name), publish.maxIntervalMs (>= intervalMs) and
// control.resultsMaxAgeMs, with their defaults.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { loadProfile, profileNames } from '../../src/config/profiles.js';
import type { SiteConfig } from '../../src/config/types.js';
import { problemsOf } from './problems.js';

const HEAD = `site: s
zookeeper:
  connect: "127.0.0.1:2181"
buses:
  - { id: lan, type: tcp, host: 127.0.0.1 }
`;

function load(yaml: string): SiteConfig {
  return parseConfig(yaml, 'site.yaml', { hostname: 'test-host' });
}

const meter = (points: string): string => `${HEAD}devices:\n  - id: m\n    kind: meter\n    bus: lan\n    points:\n${points}`;

describe('point deadband', () => {
  it('is kept on the resolved point, in engineering units; absent means none', () => {
    const cfg = load(meter('      - { name: v, address: 0, type: uint16, scale: 0.1, unit: V, deadband: 2.5 }\n      - { name: w, address: 1, type: int16 }\n'));
    expect(cfg.devices[0]?.points[0]?.deadband).toBe(2.5);
    expect(cfg.devices[0]?.points[1]).not.toHaveProperty('deadband');
  });

  it('0 is allowed (every change publishes); below 0, text or Infinity are refused at their line', () => {
    expect(load(meter('      - { name: v, address: 0, type: uint16, deadband: 0 }\n')).devices[0]?.points[0]?.deadband).toBe(0);
    for (const bad of ['-0.1', '"1"', '.inf']) {
      expect(problemsOf(meter(`      - { name: v, address: 0, type: uint16, deadband: ${bad} }\n`)), bad).toEqual([
        { line: 11, path: 'devices[0].points[0].deadband', message: 'must be a number of at least 0' },
      ]);
    }
  });

  it('on a bool or string point is a clear error', () => {
    expect(
      problemsOf(
        meter(
          '      - { name: on, table: coil, address: 0, type: bool, deadband: 1 }\n' +
            '      - { name: sn, address: 10, type: string, length: 4, deadband: 1 }\n',
        ),
      ),
    ).toEqual([
      { line: 11, path: 'devices[0].points[0].deadband', message: 'applies only to numeric points, not bool' },
      { line: 12, path: 'devices[0].points[1].deadband', message: 'applies only to numeric points, not string' },
    ]);
  });

  it("comes with the generic profiles, and a device point of the same name replaces the profile's", () => {
    for (const name of profileNames()) {
      const banded = loadProfile(name).filter((p) => p.deadband !== undefined);
      expect(banded.length, name).toBeGreaterThan(3);
      for (const p of banded) expect(p.type, `${name}.${p.name}`).not.toMatch(/^(bool|string)$/);
    }
    const inverter = (override: string): SiteConfig =>
      load(`${HEAD}devices:\n  - id: inv\n    kind: inverter\n    bus: lan\n    profile: generic-inverter\n${override}`);
    const power = (cfg: SiteConfig): number | undefined => cfg.devices[0]?.points.find((p) => p.name === 'activePower')?.deadband;
    expect(power(inverter(''))).toBe(100);
    const bigger = '    points:\n      - { name: activePower, table: input, address: 0, type: int16, scaleFactor: W_SF, unit: W, deadband: 500 }\n';
    expect(power(inverter(bigger))).toBe(500);
    // The override is the whole point: without the key the point has no deadband.
    expect(power(inverter(bigger.replace(', deadband: 500', '')))).toBeUndefined();
  });
});

describe('publish.maxIntervalMs and control.resultsMaxAgeMs', () => {
  it('default to a minute (never below intervalMs) and a week', () => {
    const cfg = load(HEAD);
    expect(cfg.publish).toEqual({ intervalMs: 1000, maxIntervalMs: 60_000 });
    expect(cfg.control.resultsMaxAgeMs).toBe(7 * 24 * 3_600_000);
    expect(load(`${HEAD}publish: { intervalMs: 120000 }\n`).publish).toEqual({ intervalMs: 120_000, maxIntervalMs: 120_000 });
    expect(load(`${HEAD}publish: { intervalMs: 500, maxIntervalMs: 500 }\ncontrol: { resultsMaxAgeMs: 3600000 }\n`)).toMatchObject({
      publish: { intervalMs: 500, maxIntervalMs: 500 },
      control: { resultsMaxAgeMs: 3_600_000 },
    });
  });

  it('refuses a maxIntervalMs below intervalMs, and a resultsMaxAgeMs below a second', () => {
    expect(problemsOf(`${HEAD}publish:\n  intervalMs: 2000\n  maxIntervalMs: 1500\n`)).toEqual([
      { line: 8, path: 'publish.maxIntervalMs', message: 'must be at least publish.intervalMs (2000)' },
    ]);
    expect(problemsOf(`${HEAD}publish:\n  maxIntervalMs: 999\n`)).toEqual([
      { line: 7, path: 'publish.maxIntervalMs', message: 'must be at least publish.intervalMs (1000)' },
    ]);
    expect(problemsOf(`${HEAD}control:\n  resultsMaxAgeMs: 10\n`)).toEqual([
      { line: 7, path: 'control.resultsMaxAgeMs', message: 'must be an integer from 1000 to 31536000000' },
    ]);
  });
});
