// ReadingsPublisher's decision (CONTRACT.md section 10), pure: deadband edges against the last
// PUBLISHED value, NaN and null, what always publishes whatever the band, and the alive write at
// publish.maxIntervalMs on a fake monotonic clock (pure scheduling logic, no timers).
import { describe, expect, it } from 'vitest';
import { movedPastDeadband } from '../../src/agent/deadband.js';
import type { DeviceReading } from '../../src/agent/device-state.js';
import { ReadingsPublisher } from '../../src/agent/readings.js';
import type { PointValue } from '../../src/config/types.js';

const BANDS = new Map([
  ['voltage', 1],
  ['temperature', 0.5],
  ['frequency', 0.05],
]);

/** The fake wall clock's time at monotonic 0 (the agent's corrected clock: publishedAt comes from it). */
const WALL_START_MS = Date.parse('2026-11-25T10:00:00.000Z');

/** A publisher with BANDS on device `d`, and the fake clock it reads. */
function publisher(opts: { maxIntervalMs?: number; intervalMs?: number } = {}): { pub: ReadingsPublisher; clock: { ms: number } } {
  const clock = { ms: 0 };
  const pub = new ReadingsPublisher(
    'site',
    'gw-a',
    {
      deadbands: (id) => (id === 'd' ? BANDS : new Map()),
      maxIntervalMs: () => opts.maxIntervalMs ?? 60_000,
      intervalMs: () => opts.intervalMs ?? 1000,
    },
    { monotonicMs: () => clock.ms, nowMs: () => WALL_START_MS + clock.ms },
  );
  return { pub, clock };
}

function reading(values: Record<string, PointValue | null>, more: Partial<DeviceReading> = {}): DeviceReading {
  return { kind: 'meter', status: 'ok', readAt: new Date(Math.round(Math.random() * 1e12)).toISOString(), values, error: null, ...more };
}

/** Feeds one tick with device `d`; true when a snapshot came out. */
function tick(pub: ReadingsPublisher, values: Record<string, PointValue | null>, more: Partial<DeviceReading> = {}, leader = true): boolean {
  return pub.next(leader, { d: reading(values, more) }) !== null;
}

describe('deadband edges', () => {
  it('a move exactly at the band publishes, one just inside does not, also for decimal register steps', () => {
    expect(movedPastDeadband(230, 231, 1)).toBe(true);
    expect(movedPastDeadband(230, 229, 1)).toBe(true);
    expect(movedPastDeadband(230, 230.999, 1)).toBe(false);
    // 230.1 - 229.1 is 0.99999999999997 in binary; 0.3 - 0.2 is 0.09999999999999998.
    expect(movedPastDeadband(229.1, 230.1, 1)).toBe(true);
    expect(movedPastDeadband(0.2, 0.3, 0.1)).toBe(true);
    expect(movedPastDeadband(50.0, 50.05, 0.05)).toBe(true);
    expect(movedPastDeadband(50.0, 50.04, 0.05)).toBe(false);
    // Deadband 0 (or none): any change.
    expect(movedPastDeadband(230, 230.0001, 0)).toBe(true);
    expect(movedPastDeadband(230, 230, 0)).toBe(false);
  });

  it('null, NaN and Infinity: a change to or from null always publishes; NaN shows as null', () => {
    expect(movedPastDeadband(null, 230, 1000)).toBe(true);
    expect(movedPastDeadband(230, null, 1000)).toBe(true);
    expect(movedPastDeadband(null, null, 1)).toBe(false);
    expect(movedPastDeadband(Number.NaN, Number.NaN, 1)).toBe(false);
    expect(movedPastDeadband(Number.NaN, null, 1)).toBe(false); // both are `null` in the snapshot
    expect(movedPastDeadband(Number.NaN, 230, 1000)).toBe(true);
    expect(movedPastDeadband(230, Number.NaN, 1000)).toBe(true);
    expect(movedPastDeadband(230, Number.POSITIVE_INFINITY, 1000)).toBe(true);
  });

  it('text, booleans, a change of type and a point that appears or goes publish on any change', () => {
    expect(movedPastDeadband(true, false, 5)).toBe(true);
    expect(movedPastDeadband('GK-1', 'GK-2', 5)).toBe(true);
    expect(movedPastDeadband('GK-1', 'GK-1', 5)).toBe(false);
    expect(movedPastDeadband(1, '1', 5)).toBe(true);
    expect(movedPastDeadband(undefined, 1, 5)).toBe(true);
    expect(movedPastDeadband(1, undefined, 5)).toBe(true);
  });
});

describe('ReadingsPublisher', () => {
  it('compares with the last PUBLISHED value: small steps publish once they add up to the band', () => {
    const { pub } = publisher();
    expect(tick(pub, { voltage: 230 })).toBe(true); // the first snapshot
    expect(tick(pub, { voltage: 230.4 })).toBe(false);
    expect(tick(pub, { voltage: 230.8 })).toBe(false);
    expect(tick(pub, { voltage: 230.2 })).toBe(false);
    expect(tick(pub, { voltage: 231.0 })).toBe(true); // 1.0 from the published 230
    expect(tick(pub, { voltage: 230.1 })).toBe(false); // 0.9 from the published 231
    expect(tick(pub, { voltage: 230.0 })).toBe(true);
    expect(pub.written).toBe(3);
  });

  it('a written snapshot carries every current value, also those inside their band', () => {
    const { pub } = publisher();
    tick(pub, { voltage: 230, temperature: 25 });
    expect(tick(pub, { voltage: 230.5, temperature: 25.2 })).toBe(false);
    const text = pub.next(true, { d: reading({ voltage: 230.5, temperature: 25.5 }) });
    expect(JSON.parse(text ?? '{}')).toMatchObject({ site: 'site', agentId: 'gw-a', seq: 2, leader: true, devices: { d: { values: { voltage: 230.5, temperature: 25.5 } } } });
    // 230.5 is now the published voltage: 231.4 is inside the band from it.
    expect(tick(pub, { voltage: 231.4, temperature: 25.5 })).toBe(false);
  });

  it('a status change, an error, a held setpoint field, leadership or a device coming always publish, inside every band', () => {
    const { pub } = publisher();
    tick(pub, { voltage: 230 });
    expect(tick(pub, { voltage: 230.1 }, { status: 'error', error: 'Timeout after 1000ms [bus=lan unit=1]' })).toBe(true);
    expect(tick(pub, { voltage: 230.1 }, { status: 'error', error: 'Timeout after 1000ms [bus=lan unit=1]' })).toBe(false);
    expect(tick(pub, { voltage: 230.1 }, { status: 'error', error: 'connection refused [bus=lan]' })).toBe(true);
    expect(tick(pub, { voltage: 230.1 })).toBe(true); // ok again
    const held = { refreshedAt: '2026-11-25T10:00:00.000Z', revertsAt: '2026-11-25T10:01:00.000Z' };
    const withFallback = (h: typeof held): Partial<DeviceReading> => JSON.parse(JSON.stringify({ fallback: h })) as Partial<DeviceReading>;
    expect(tick(pub, { voltage: 230.1 }, withFallback(held))).toBe(true);
    expect(tick(pub, { voltage: 230.2 }, withFallback(held))).toBe(false);
    expect(tick(pub, { voltage: 230.2 }, withFallback({ ...held, revertsAt: '2026-11-25T10:01:20.000Z' }))).toBe(true);
    expect(tick(pub, { voltage: 230.2 }, withFallback({ ...held, revertsAt: '2026-11-25T10:01:20.000Z' }), false)).toBe(true); // standby now
    expect(pub.next(false, { d: reading({ voltage: 230.2 }, withFallback({ ...held, revertsAt: '2026-11-25T10:01:20.000Z' })), e: reading({}) })).not.toBeNull();
  });

  it('a new readAt alone, or the same values object of a device in error, is no change', () => {
    const { pub } = publisher();
    const values = { voltage: 230, temperature: 25, frequency: 50 };
    tick(pub, values);
    for (let i = 0; i < 5; i++) expect(tick(pub, { ...values })).toBe(false);
    const failed = reading(values, { status: 'error', error: 'x' });
    expect(pub.next(true, { d: failed })).not.toBeNull();
    expect(pub.next(true, { d: { ...failed, readAt: 'later' } })).toBeNull();
  });

  it('a point without a deadband, on a device without any, publishes on every change (as before deadbands)', () => {
    const { pub } = publisher();
    expect(pub.next(true, { other: reading({ voltage: 230 }) })).not.toBeNull();
    expect(pub.next(true, { other: reading({ voltage: 230.01 }) })).not.toBeNull();
    expect(tick(pub, { power: 1 })).toBe(true); // device d came: publishes
    expect(pub.next(true, { d: reading({ power: 1.001 }) })).not.toBeNull(); // `power` has no band on d
  });

  it('writes the alive snapshot once maxIntervalMs passed without a change, and a change restarts that wait', () => {
    const { pub, clock } = publisher({ maxIntervalMs: 500, intervalMs: 100 });
    const quiet = { voltage: 230 };
    const writtenAt: number[] = [];
    for (clock.ms = 0; clock.ms <= 2000; clock.ms += 100) {
      if (clock.ms === 1200) quiet.voltage = 232; // a real change
      if (tick(pub, { ...quiet })) writtenAt.push(clock.ms);
    }
    expect(writtenAt).toEqual([0, 500, 1000, 1200, 1700]);
  });

  it('a tick a little early does not push the alive write a whole interval late', () => {
    const { pub, clock } = publisher({ maxIntervalMs: 1000, intervalMs: 100 });
    tick(pub, { voltage: 230 });
    clock.ms = 949;
    expect(tick(pub, { voltage: 230 })).toBe(false);
    clock.ms = 998; // the timer fired 2 ms early
    expect(tick(pub, { voltage: 230 })).toBe(true);
  });

  it('without a policy: every change publishes and nothing else does (no alive write)', () => {
    const pub = new ReadingsPublisher('site', 'gw-a');
    expect(pub.next(true, { d: reading({ voltage: 230 }) })).not.toBeNull();
    expect(pub.next(true, { d: reading({ voltage: 230 }) })).toBeNull();
    expect(pub.next(true, { d: reading({ voltage: 230.001 }) })).not.toBeNull();
  });
});

describe('one device against the last snapshot (what the publish pacer asks after a poll)', () => {
  it('judges as next() would: inside the band no, past it or a status change yes, an unknown device yes', () => {
    const { pub } = publisher();
    expect(tick(pub, { voltage: 230, temperature: 20 })).toBe(true);
    expect(pub.deviceChanged('d', reading({ voltage: 230.9, temperature: 20.4 }))).toBe(false);
    expect(pub.deviceChanged('d', reading({ voltage: 231, temperature: 20 }))).toBe(true);
    expect(pub.deviceChanged('d', reading({ voltage: 230, temperature: 20 }, { status: 'error', error: 'timeout' }))).toBe(true);
    expect(pub.deviceChanged('d', reading({ voltage: 230 }))).toBe(true); // a point went away
    expect(pub.deviceChanged('other', reading({}))).toBe(true);
  });
});
