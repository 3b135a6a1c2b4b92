// Done when: "Commands with every kind of bad input are rejected with the reason, device untouched."
// Also: commands older than their TTL by ZooKeeper's clock are `expired` and never applied, even
// when the agent's own wall clock is years off (a Raspberry Pi without a battery clock).
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/coordination/clock.js';
import { pathsOf, siteConfig, sleep, startAgent, uniqueSite, waitForLeader, type WriteRecord, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterEach');

const RESULT_KEYS = ['agentId', 'command', 'error', 'finishedAt', 'lock', 'readBack', 'startedAt', 'status', 'token'];

describe('bad commands are rejected with the reason, the device untouched', () => {
  it('malformed JSON, not an object, missing fields, unknown device or point, read-only, wrong type, out of range', async () => {
    const config = siteConfig({ site: uniqueSite('bad'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const paths = pathsOf(config);
    const writes: WriteRecord[] = [];
    const agent = startAgent(config, writes);
    fx.agents.push(agent);
    const token = await waitForLeader(agent, 10_000);

    const bad: { doc: unknown; reason: RegExp }[] = [
      { doc: '{"device": "inv-1", "point": ', reason: /^malformed JSON/ },
      { doc: '[1,2,3]', reason: /^malformed command: expected a JSON object/ },
      { doc: '"just a string"', reason: /^malformed command/ },
      { doc: { point: 'activePowerLimit', value: 5 }, reason: /^device:/ },
      { doc: { device: 'inv-1', value: 5 }, reason: /^point:/ },
      { doc: { device: 'inv-1', point: 'activePowerLimit' }, reason: /^value: missing/ },
      { doc: { device: 'inv-1', point: 'activePowerLimit', value: 5, ttlMs: -3 }, reason: /^ttlMs:/ },
      { doc: { device: 'inv-9', point: 'activePowerLimit', value: 5 }, reason: /unknown device 'inv-9'/ },
      { doc: { device: 'inv-1', point: 'nope', value: 5 }, reason: /has no point 'nope'/ },
      { doc: { device: 'inv-1', point: 'activePower', value: 5 }, reason: /read-only/ },
      { doc: { device: 'inv-1', point: 'activePowerLimit', value: 'fifty' }, reason: /numeric/ },
      { doc: { device: 'bms-1', point: 'enabled', value: 1 }, reason: /is a bool/ },
      { doc: { device: 'inv-1', point: 'activePowerLimit', value: 101 }, reason: /above max 100/ },
      { doc: { device: 'inv-1', point: 'activePowerLimit', value: -1 }, reason: /below min 0/ },
    ];
    const names: string[] = [];
    for (const b of bad) names.push(await fx.admin.submit(paths, b.doc));
    const good = await fx.admin.submit(paths, { device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'test' });

    const results = await fx.admin.waitForResults(paths, [...names, good], 10_000);
    bad.forEach((b, i) => {
      const r = results.get(names[i] ?? '');
      expect(r?.status, JSON.stringify(b.doc)).toBe('rejected');
      expect(r?.error ?? '').toMatch(b.reason);
      expect(r?.readBack).toBeNull();
      expect(r?.token).toBe(token);
      expect(Object.keys(r ?? {}).sort()).toEqual(RESULT_KEYS);
    });
    // A malformed document is kept as its raw text; a well-formed one as the parsed object.
    expect(results.get(names[0] ?? '')?.command).toBe('{"device": "inv-1", "point": ');
    expect(results.get(names[7] ?? '')?.command).toEqual({ device: 'inv-9', point: 'activePowerLimit', value: 5 });

    const ok = results.get(good);
    expect(ok).toMatchObject({ status: 'applied', agentId: 'gw-a', readBack: 42, error: null, token });
    expect(ok?.lock).toMatch(/^lock-\d{10}$/);
    expect(ok?.command).toEqual({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'test' });
    expect(Date.parse(ok?.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(ok?.startedAt ?? ''));

    // The device was touched exactly once: by the good command.
    expect(agent.handler.applyCalls.map((c) => c.value)).toEqual([42]);
    expect(writes.map((w) => w.value)).toEqual([42]);
    expect(agent.coordinator.commandCounts()).toEqual({ applied: 1, rejected: bad.length, failed: 0, expired: 0 });
    expect(await fx.admin.pendingCommands(paths)).toEqual([]);
  });

  it('expires a command older than its TTL by ZooKeeper clock, even with a local clock years off', async () => {
    const config = siteConfig({
      site: uniqueSite('ttl'),
      agentId: 'gw-pi',
      connect: fx.zk.connectString,
      sessionTimeoutMs: T_MS,
      commandTtlMs: 60_000,
    });
    const paths = pathsOf(config);
    // Submitted while no agent runs: by the time one starts, 1.5 s have passed on ZooKeeper's clock.
    const stale = await fx.admin.submit(paths, { device: 'inv-1', point: 'activePowerLimit', value: 10, ttlMs: 1000 });
    const staleDefault = await fx.admin.submit(paths, { device: 'inv-1', point: 'activePowerLimit', value: 11 });
    await sleep(1500);
    // The Pi booted without a battery clock: its wall clock is three years behind.
    const skewedClock: Clock = { nowMs: () => Date.now() - 3 * 365 * 86_400_000, monotonicMs: () => performance.now() };
    const writes: WriteRecord[] = [];
    const agent = startAgent(config, writes, { clock: skewedClock });
    fx.agents.push(agent);
    await waitForLeader(agent, 10_000);
    const fresh = await fx.admin.submit(paths, { device: 'inv-1', point: 'activePowerLimit', value: 12, ttlMs: 5000 });

    const results = await fx.admin.waitForResults(paths, [stale, staleDefault, fresh], 10_000);
    expect(results.get(stale)).toMatchObject({ status: 'expired', readBack: null });
    expect(results.get(stale)?.error).toMatch(/^expired: \d+ms old by ZooKeeper's clock, ttl 1000ms$/);
    // 1.5 s old against the default TTL of 60 s: applied; the fresh one too.
    expect(results.get(staleDefault)?.status).toBe('applied');
    expect(results.get(fresh)?.status).toBe('applied');
    expect(writes.map((w) => w.value)).toEqual([11, 12]);
    // Result times come from ZooKeeper's clock, not the skewed local one (within a minute of the real time).
    expect(Math.abs(Date.parse(results.get(fresh)?.finishedAt ?? '') - Date.now())).toBeLessThan(60_000);
  });
});
