// The families of /metrics the agent writes itself for speed (poll-durations.ts, point-metrics.ts)
// must read exactly as prom-client would write the same series, escapes included.
import { Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../src/agent/metrics.js';
import { PointMetrics } from '../../src/agent/point-metrics.js';
import { PollDurations } from '../../src/agent/poll-durations.js';
import { PointUnits } from '../../src/agent/point-units.js';
import type { DeviceReading } from '../../src/agent/device-state.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load.js';

describe('PollDurations', () => {
  it('writes what a prom-client Histogram writes for the same observations, edges and escapes included', async () => {
    const buckets = [0.0005, 0.001, 0.5, 1, 2.5];
    const ours = new PollDurations('x_duration_seconds', 'Duration of "one" poll\nin s \\ per device', buckets);
    const registry = new Registry();
    const theirs = new Histogram({ name: 'x_duration_seconds', help: 'Duration of "one" poll\nin s \\ per device', labelNames: ['device'] as const, buckets, registers: [registry] });
    const observations: Array<[string, number]> = [
      ['dev-1', 0.0004],
      ['we"ird\\dev\nice', 0.001],
      ['dev-1', 0.0005],
      ['dev-1', 0.7],
      ['dev-1', 9],
      ['dev-2', 0.0001 + 0.0002],
    ];
    ours.labels({ device: 'never-polled' }); // bound but never observed: no lines, as prom-client
    for (const [device, v] of observations) {
      ours.labels({ device }).observe(v);
      theirs.labels({ device }).observe(v);
    }
    expect(`${ours.text()}\n`).toBe(await registry.metrics());
    ours.remove({ device: 'dev-2' });
    theirs.remove({ device: 'dev-2' });
    expect(`${ours.text()}\n`).toBe(await registry.metrics());
  });

  it("is part of the agent's /metrics text, after the registry's families", async () => {
    const metrics = new AgentMetrics();
    metrics.polls.labels({ device: 'inv-1', result: 'ok' }).inc();
    metrics.pollDuration.labels({ device: 'inv-1' }).observe(0.002);
    const text = await metrics.text();
    expect(text).toContain('\ngridkeeper_polls_total{device="inv-1",result="ok"} 1\n');
    expect(text).toContain('\ngridkeeper_poll_duration_seconds_bucket{le="0.002",device="inv-1"} 1\n');
    expect(text).toContain('\ngridkeeper_poll_duration_seconds_count{device="inv-1"} 1\n');
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('PointMetrics', () => {
  const config = parseConfig(
    `
site: s
agent: { id: a }
zookeeper: { connect: "127.0.0.1:2181" }
http: { listen: "127.0.0.1:0" }
buses: [{ id: lan, type: tcp, host: 127.0.0.1, port: 1502 }]
devices:
  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter }
  - { id: bms-1, kind: bms, bus: lan, unitId: 2, profile: generic-bms }
  - { id: bms-2, kind: bms, bus: lan, unitId: 3, profile: generic-bms }
`,
    'point-metrics.yaml',
  );
  const nowMs = Date.parse('2026-11-25T12:00:10.000Z');
  const clock: Clock = { ...systemClock, nowMs: () => nowMs };
  const readings: Record<string, DeviceReading> = {
    'inv-1': {
      kind: 'inverter',
      status: 'ok',
      readAt: '2026-11-25T12:00:08.500Z',
      values: { activePower: 4200, W_SF: 0, voltageL1: 230.1, serialNumber: 'SN-1', enabled: true, frequency: Number.NaN },
      error: null,
    },
    'bms-1': { kind: 'bms', status: 'error', readAt: '2026-11-25T12:00:00.000Z', values: { stateOfCharge: 55.5, temperatureMin: -3.25 }, error: 'timeout' },
    'bms-2': { kind: 'bms', status: 'pending', readAt: null, values: {}, error: null },
  };

  it('writes every numeric point and the age of every device read, as the prom-client gauges did', async () => {
    const metrics = new AgentMetrics();
    const points = new PointMetrics(metrics, { readings: () => readings, units: new PointUnits(config.devices, new Map()), clock });
    // The same series through prom-client, as PointMetrics kept them before.
    const registry = new Registry();
    const value = new Gauge({
      name: 'gridkeeper_point_value',
      help: 'Last good value of a numeric point, in its unit (null and non-numeric points omitted)',
      labelNames: ['device', 'point', 'unit'] as const,
      registers: [registry],
    });
    const age = new Gauge({ name: 'gridkeeper_point_age_seconds', help: 'Seconds since the values of a device were read (its last good poll)', labelNames: ['device'] as const, registers: [registry] });
    const units = new PointUnits(config.devices, new Map());
    for (const [device, r] of Object.entries(readings)) {
      for (const [point, v] of Object.entries(r.values)) {
        if (typeof v === 'number' && Number.isFinite(v)) value.set({ device, point, unit: units.of(device).get(point) ?? '' }, v);
      }
      if (r.readAt !== null) age.set({ device }, (nowMs - Date.parse(r.readAt)) / 1000);
    }
    expect(`${points.text()}\n`).toBe(await registry.metrics());
    expect(points.text()).toContain('gridkeeper_point_value{device="inv-1",point="activePower",unit="W"} 4200');
    expect(points.text()).toContain('gridkeeper_point_value{device="bms-1",point="temperatureMin",unit="°C"} -3.25');
    expect(points.text()).toContain('gridkeeper_point_age_seconds{device="bms-1"} 10');
    // And in the agent's /metrics text, after the registry's families.
    expect(await metrics.text()).toContain(`\n\n${points.text()}\n`);
  });

  it('a point that turned null or a device that went away leaves no series behind', () => {
    const now: Record<string, DeviceReading> = { 'inv-1': { ...readings['inv-1']!, values: { activePower: null, W_SF: 0 } } };
    let current = readings;
    const points = new PointMetrics(new AgentMetrics(), { readings: () => current, units: new PointUnits(config.devices, new Map()), clock });
    expect(points.text()).toContain('device="bms-1"');
    current = now;
    const text = points.text();
    expect(text).not.toContain('activePower');
    expect(text).not.toContain('bms-1');
    expect(text).toContain('gridkeeper_point_value{device="inv-1",point="W_SF",unit=""} 0');
  });
});
