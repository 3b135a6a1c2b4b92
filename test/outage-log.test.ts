// The outage lines of a device or bus (src/outage-log.ts), and a dead device polled by the real
// DevicePoller for a simulated hour. Pure scheduling logic: a fake clock is the right tool here
// (STYLE.md 8); the same behaviour with real processes is test/e2e/quiet-logs.test.ts.
import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../src/agent/metrics.js';
import { DevicePoller } from '../src/agent/poller.js';
import type { DeviceConfig } from '../src/config/types.js';
import { TimeoutError } from '../src/drivers/errors.js';
import { OutageLog, reminderDueMs } from '../src/outage-log.js';
import { FakeClock } from './helpers/fake-clock.js';

const HOUR_MS = 3_600_000;

/** A pino logger at `level` whose lines land in `lines`, parsed. */
function capture(level: 'info' | 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

const timeout = (): TimeoutError => new TimeoutError(1000, { bus: 'lan', device: 'inv-1', unit: 1, fc: 3, table: 'holding', address: 0, count: 10 });

describe('OutageLog', () => {
  it('a dead device polled every 250 ms for an hour: one down line, reminders at 1, 5, 15, 60 min, one up line', () => {
    const clock = new FakeClock();
    const { logger, lines } = capture('info');
    const outage = new OutageLog({ subject: 'device', attempt: 'poll', countAs: 'failedPolls' }, { logger, clock });
    outage.succeeded(); // all well: nothing to say
    for (let t = 0; t < HOUR_MS; t += 250) {
      outage.failed(timeout());
      clock.stall(250);
    }
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'device down'],
      [40, 'device still down'],
      [40, 'device still down'],
      [40, 'device still down'],
    ]);
    // The 60-minute reminder is due at the first failure at or after 60 min.
    outage.failed(timeout());
    expect(lines.map((l) => l.downForMs)).toEqual([undefined, 60_000, 300_000, 900_000, HOUR_MS]);
    const down = lines[0] ?? {};
    expect(down.failedPolls).toBe(2);
    expect(down.error).toEqual({ type: 'TimeoutError', code: 'TIMEOUT', message: timeout().message });
    expect(lines[4]?.failedPolls).toBe(HOUR_MS / 250 + 1);
    expect(JSON.stringify(lines)).not.toMatch(/stack|at .*\.ts:\d+/);

    clock.stall(30_000);
    outage.succeeded();
    const up = lines.at(-1) ?? {};
    expect(up).toMatchObject({ level: 30, msg: 'device up again', downForMs: HOUR_MS + 30_000, failedPolls: HOUR_MS / 250 + 1 });
    expect(outage.isDown).toBe(false);
  });

  it('then hourly: a day down costs 4 + 24 reminder lines', () => {
    expect([0, 1, 2, 3, 4, 5].map(reminderDueMs)).toEqual([60_000, 300_000, 900_000, HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS]);
    const clock = new FakeClock();
    const { logger, lines } = capture('info');
    const outage = new OutageLog({ subject: 'bus', attempt: 'connection', countAs: 'failures' }, { logger, clock });
    // A bus retries at most every 30 s once its backoff is at its cap.
    for (let t = 0; t <= 24 * HOUR_MS; t += 30_000) {
      outage.failed(new Error('connect ECONNREFUSED'));
      clock.stall(30_000);
    }
    expect(lines.filter((l) => l.msg === 'bus down')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'bus still down')).toHaveLength(3 + 24);
  });

  it('one failure alone is a glitch: debug only, and a new outage starts counting afresh', () => {
    const clock = new FakeClock();
    const { logger, lines } = capture('info');
    const outage = new OutageLog({ subject: 'device', attempt: 'poll', countAs: 'failedPolls' }, { logger, clock });
    for (let i = 0; i < 100; i++) {
      outage.failed(timeout());
      clock.stall(1000);
      outage.succeeded();
    }
    expect(lines).toEqual([]);
    outage.failed(timeout());
    outage.failed(timeout());
    outage.succeeded();
    outage.failed(timeout());
    outage.failed(timeout());
    expect(lines.map((l) => [l.msg, l.failedPolls])).toEqual([
      ['device down', 2],
      ['device up again', 2],
      ['device down', 2],
    ]);
  });

  it('at debug: every failure, with its stack', () => {
    const clock = new FakeClock();
    const { logger, lines } = capture('debug');
    const outage = new OutageLog({ subject: 'device', attempt: 'poll', countAs: 'failedPolls' }, { logger, clock });
    outage.failed(timeout());
    const debug = lines.find((l) => l.level === 20);
    expect(debug?.msg).toBe('device poll failed');
    expect((debug?.err as { stack?: string } | undefined)?.stack).toMatch(/TimeoutError/);
  });
});

describe('DevicePoller with a dead device', () => {
  it('an hour of failed polls every 250 ms costs at most 20 lines; the recovery one more', async () => {
    const clock = new FakeClock();
    const { logger, lines } = capture('info');
    const device: DeviceConfig = { id: 'inv-1', kind: 'inverter', bus: 'lan', unitId: 1, pollIntervalMs: 250, points: [] };
    let dead = true;
    // Stands in for the driver of a device that does not answer (the real one: test/e2e/quiet-logs).
    const source = { poll: () => (dead ? Promise.reject(timeout()) : Promise.resolve({ activePower: 1 })) };
    const metrics = new AgentMetrics({ busStats: () => [], clockOffsetMs: () => null });
    const poller = new DevicePoller(device, source, { logger: logger.child({ device: 'inv-1' }), metrics, busId: 'lan', active: () => true, clock });
    poller.start();
    await clock.advance(HOUR_MS);
    expect(poller.reading.status).toBe('error');
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(5); // down, 1, 5, 15, 60 min
    expect(lines.every((l) => l.device === 'inv-1' && l.bus === 'lan')).toBe(true);
    dead = false;
    await clock.advance(1000);
    poller.close();
    expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'device up again', device: 'inv-1', failedPolls: HOUR_MS / 250 + 1 });
    expect(lines.length).toBe(6);
  });
});
