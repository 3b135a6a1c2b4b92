// The one wall clock (CONTRACT.md section 9), pure, on fake clocks: CorrectedClock against a
// ServerClock fed by hand, the stamps that take their time from it (publishedAt, readAt through the
// poller, the charts' history across a correction), and the clock offset family of /metrics.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AgentMetrics } from '../src/agent/metrics.js';
import { ReadingsHistory } from '../src/agent/point-history.js';
import { DevicePoller } from '../src/agent/poller.js';
import { ReadingsPublisher } from '../src/agent/readings.js';
import type { DeviceReading } from '../src/agent/device-state.js';
import { CorrectedClock, type Clock } from '../src/clock.js';
import type { DeviceConfig } from '../src/config/types.js';
import { ServerClock } from '../src/coordination/server-clock.js';

const YEAR_MS = 365 * 86_400_000;
/** ZooKeeper's (the true) time at monotonic 0. */
const TRUE_START_MS = Date.parse('2026-11-25T10:00:00.000Z');

/** A local clock whose wall time is `offBy` ms behind the truth; monotonic time and wall time move together as `t` does. */
function localClock(offByMs: number): Clock & { t: number } {
  const c = {
    t: 0,
    nowMs: () => TRUE_START_MS - offByMs + c.t,
    monotonicMs: () => c.t,
    setTimeout: () => 0,
    clearTimeout: () => undefined,
  };
  return c;
}

/** A ServerClock with one sample: a write sent at monotonic `t` answered 10 ms later, stamped with the true time of its middle. */
function observeWrite(server: ServerClock, atMonoMs: number): void {
  server.observe(atMonoMs, atMonoMs + 10, TRUE_START_MS + atMonoMs + 5);
}

describe('CorrectedClock', () => {
  it('is the local wall clock until ZooKeeper\'s is known, then ZooKeeper\'s; offsetMs says by how much the local one is off', () => {
    const local = localClock(YEAR_MS);
    const server = new ServerClock({ clock: local });
    const wall = new CorrectedClock(local, server);
    local.t = 1000;
    expect(wall.corrected).toBe(false);
    expect(wall.offsetMs()).toBeNull();
    expect(wall.nowMs()).toBe(TRUE_START_MS - YEAR_MS + 1000);

    observeWrite(server, 1000);
    local.t = 2000;
    expect(wall.corrected).toBe(true);
    expect(wall.nowMs()).toBe(TRUE_START_MS + 2000);
    expect(wall.isoNow()).toBe(new Date(TRUE_START_MS + 2000).toISOString());
    // Positive: the local clock is behind.
    expect(wall.offsetMs()).toBe(YEAR_MS);
    // Durations stay the local clock's.
    expect(wall.monotonicMs()).toBe(2000);
  });

  it('keeps the corrected time when the local wall clock jumps (NTP arrives): the offset follows the local clock', () => {
    const local = localClock(YEAR_MS);
    const server = new ServerClock({ clock: local });
    const wall = new CorrectedClock(local, server);
    observeWrite(server, 0);
    local.t = 500;
    const before = wall.nowMs();
    // NTP sets the local wall clock right; monotonic time does not move.
    const fixed = { ...local, nowMs: () => TRUE_START_MS + local.t };
    const wallAfter = new CorrectedClock(fixed, server);
    expect(wallAfter.nowMs()).toBe(before);
    expect(wallAfter.offsetMs()).toBe(0);
    expect(wall.offsetMs()).toBe(YEAR_MS);
  });

  it('tells onCorrected listeners once, with the offset, before it hands out a corrected time', () => {
    const local = localClock(YEAR_MS);
    const server = new ServerClock({ clock: local });
    const wall = new CorrectedClock(local, server);
    const heard: Array<{ offsetMs: number; stampedLocal: number }> = [];
    const stamp = wall.nowMs(); // local time
    wall.onCorrected((offsetMs) => heard.push({ offsetMs, stampedLocal: stamp }));
    expect(wall.nowMs()).toBe(stamp);
    expect(heard).toEqual([]);
    observeWrite(server, 0);
    local.t = 100;
    const corrected = wall.nowMs();
    expect(heard).toEqual([{ offsetMs: YEAR_MS, stampedLocal: stamp }]);
    // The earlier stamp plus the offset is what the corrected clock said then.
    expect(stamp + YEAR_MS).toBe(corrected - 100);
    wall.nowMs();
    wall.offsetMs();
    expect(heard).toHaveLength(1);
  });

  it('says a local clock ahead as a negative offset', () => {
    const local = localClock(-3000);
    const server = new ServerClock({ clock: local });
    observeWrite(server, 0);
    expect(new CorrectedClock(local, server).offsetMs()).toBe(-3000);
  });
});

describe('stamps by the corrected clock', () => {
  it('ReadingsPublisher stamps publishedAt by the clock it is given', () => {
    const local = localClock(YEAR_MS);
    const server = new ServerClock({ clock: local });
    const pub = new ReadingsPublisher('s', 'gw-a', undefined, new CorrectedClock(local, server));
    const before = JSON.parse(pub.next(false, {}) ?? 'null') as { publishedAt: string };
    expect(before.publishedAt).toBe(new Date(TRUE_START_MS - YEAR_MS).toISOString());
    observeWrite(server, 0);
    local.t = 100;
    const after = JSON.parse(pub.next(true, {}) ?? 'null') as { publishedAt: string };
    expect(after.publishedAt).toBe(new Date(TRUE_START_MS + 100).toISOString());
  });

  it('DevicePoller stamps readAt by the clock it is given', async () => {
    const local = localClock(YEAR_MS);
    const server = new ServerClock({ clock: local });
    observeWrite(server, 0);
    local.t = 250;
    const device = { id: 'inv-1', kind: 'inverter', pollIntervalMs: 1000 } as unknown as DeviceConfig;
    let resolve: (() => void) | null = null;
    const polled = new Promise<void>((r) => (resolve = r));
    const source = {
      poll: () => {
        setImmediate(() => resolve?.());
        return Promise.resolve({ activePower: 1 });
      },
    };
    // Real timers here: the poller's schedule is not under test, only the stamp of one poll.
    const clock = new CorrectedClock({ ...local, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) }, server);
    const poller = new DevicePoller(device, source, { logger: pino({ level: 'silent' }), metrics: new AgentMetrics(), busId: 'lan', active: () => true, clock });
    poller.start();
    await polled;
    poller.close();
    expect(poller.reading.status).toBe('ok');
    expect(poller.reading.readAt).toBe(new Date(TRUE_START_MS + 250).toISOString());
  });

  it('ReadingsHistory starts a device over when its readAt goes back (the clock was corrected backwards)', () => {
    let reading: DeviceReading = { kind: 'meter', status: 'ok', readAt: null, values: { p: 1 }, error: null };
    const clock = localClock(0);
    const history = new ReadingsHistory({ readings: () => ({ m: reading }), clock }, { sampleMs: 1000, samples: 10 });
    const sample = (atMs: number, p: number): void => {
      reading = { ...reading, readAt: new Date(atMs).toISOString(), values: { p } };
      // start() takes a sample at once; close() stops its timer again.
      history.start();
      history.close();
    };
    // Stamped by a local clock an hour ahead, then by ZooKeeper's.
    sample(TRUE_START_MS + 3_600_000, 1);
    sample(TRUE_START_MS + 3_601_000, 2);
    sample(TRUE_START_MS + 2000, 3);
    clock.t = 3000;
    expect(history.toJson()['m']?.n).toBe(1);
  });
});

describe('gridkeeper_clock_offset_seconds', () => {
  it('has no sample until the offset is known, then the offset in seconds, same sign as clockOffsetMs', async () => {
    let offsetMs: number | null = null;
    const metrics = new AgentMetrics({ busStats: () => [], clockOffsetMs: () => offsetMs });
    const before = await metrics.text();
    expect(before).toContain('# TYPE gridkeeper_clock_offset_seconds gauge\n');
    expect(before).not.toMatch(/^gridkeeper_clock_offset_seconds /m);
    offsetMs = YEAR_MS + 1500;
    expect(await metrics.text()).toMatch(new RegExp(`^gridkeeper_clock_offset_seconds ${(YEAR_MS + 1500) / 1000}$`, 'm'));
    offsetMs = -2500;
    expect(await metrics.text()).toMatch(/^gridkeeper_clock_offset_seconds -2\.5$/m);
  });
});

describe('ServerClock', () => {
  it('uses the sample of the shortest round trip in its window, and the next best once that one ages out', () => {
    const local = localClock(0);
    const server = new ServerClock({ clock: local }, { windowMs: 1000 });
    // A quick write at 0 whose server time says +7 ms, a slow one at 600 ms saying +0.
    server.observe(0, 2, TRUE_START_MS + 1 + 7);
    server.observe(600, 700, TRUE_START_MS + 650);
    local.t = 800;
    expect(server.nowMs()).toBe(TRUE_START_MS + 800 + 7);
    expect(server.uncertaintyMs()).toBe(1);
    // 1000 ms after the quick one, only the slow one is left.
    local.t = 1100;
    expect(server.nowMs()).toBe(TRUE_START_MS + 1100);
    expect(server.uncertaintyMs()).toBe(50);
    // The newest is kept however old.
    local.t = 10_000;
    expect(server.nowMs()).toBe(TRUE_START_MS + 10_000);
  });
});
