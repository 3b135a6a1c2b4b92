// Done when: "Commands with every kind of bad input are rejected with the reason, device untouched."
// Also: commands older than their TTL by ZooKeeper's clock are `expired` and never applied, even
// when the agent's own wall clock is years off (a Raspberry Pi without a battery clock).
import { describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/clock.js';
import { nodeName } from '../../src/coordination/paths.js';
import { ensurePath } from '../../src/coordination/tree.js';
import { pathsOf, siteConfig, sleep, startAgent, uniqueSite, waitForLeader, type WriteRecord, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterEach');

const RESULT_KEYS = ['agentId', 'command', 'error', 'finishedAt', 'lock', 'readBack', 'startedAt', 'status', 'token'];

describe('bad commands are rejected with the reason, the device untouched', () => {
  it('malformed JSON, not an object, missing fields, unknown device or point, read-only, wrong type, out of range', async () => {
    const config = siteConfig({ site: uniqueSite('bad'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const op = fx.admin.site(pathsOf(config));
    const writes: WriteRecord[] = [];
    const agent = startAgent(config, writes);
    fx.agents.push(agent);
    const token = await waitForLeader(agent, 10_000);

    const bad: { doc: Record<string, unknown> | string; reason: RegExp }[] = [
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
    for (const b of bad) names.push(await op.submit(b.doc));
    const good = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'test' });

    const results = await op.awaitResults([...names, good], 10_000);
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
    expect(await op.pendingCommands()).toEqual([]);
  });

  it('expires a command older than its TTL by ZooKeeper clock, even with a local clock years off', async () => {
    const config = siteConfig({
      site: uniqueSite('ttl'),
      agentId: 'gw-pi',
      connect: fx.zk.connectString,
      sessionTimeoutMs: T_MS,
      commandTtlMs: 60_000,
    });
    const op = fx.admin.site(pathsOf(config));
    // Submitted while no agent runs: by the time one starts, 1.5 s have passed on ZooKeeper's clock.
    const stale = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 10, ttlMs: 1000 });
    const staleDefault = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 11 });
    await sleep(1500);
    // The Pi booted without a battery clock: its wall clock is three years behind.
    const skewedClock: Clock = { ...systemClock, nowMs: () => Date.now() - 3 * 365 * 86_400_000 };
    const writes: WriteRecord[] = [];
    const agent = startAgent(config, writes, { clock: skewedClock });
    fx.agents.push(agent);
    await waitForLeader(agent, 10_000);
    const fresh = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 12, ttlMs: 5000 });

    const results = await op.awaitResults([stale, staleDefault, fresh], 10_000);
    expect(results.get(stale)).toMatchObject({ status: 'expired', readBack: null });
    expect(results.get(stale)?.error).toMatch(/^expired: \d+ms old by ZooKeeper's clock, ttl 1000ms$/);
    // 1.5 s old against the default TTL of 60 s: applied; the fresh one too.
    expect(results.get(staleDefault)?.status).toBe('applied');
    expect(results.get(fresh)?.status).toBe('applied');
    expect(writes.map((w) => w.value)).toEqual([11, 12]);
    // Result times come from ZooKeeper's clock, not the skewed local one (within a minute of the real time).
    expect(Math.abs(Date.parse(results.get(fresh)?.finishedAt ?? '') - Date.now())).toBeLessThan(60_000);
  });

  it('rejects a command rewritten after its creation (data version not 0) as modified, never applied', async () => {
    const config = siteConfig({ site: uniqueSite('modified'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const paths = pathsOf(config);
    const op = fx.admin.site(paths);
    // An issuer's client library creates commands with the open ACL (a raw create, not our
    // operator client, which closes the node); while the site has no holder, someone rewrites a
    // pending command: 50 becomes 99.
    await ensurePath(fx.admin.session, paths.commands, null);
    const issue = async (doc: Record<string, unknown>): Promise<string> =>
      nodeName(await fx.admin.session.create(paths.newCommand(), Buffer.from(JSON.stringify(doc)), 'persistent_sequential'));
    const rewritten = await issue({ device: 'inv-1', point: 'activePowerLimit', value: 50, issuedBy: 'ems' });
    await fx.admin.session.set(paths.command(rewritten), Buffer.from(JSON.stringify({ device: 'inv-1', point: 'activePowerLimit', value: 99, issuedBy: 'ems' })));
    // Rewritten with the same bytes still counts: the version says it was touched.
    const doc51 = { device: 'inv-1', point: 'activePowerLimit', value: 51 };
    const touched = await issue(doc51);
    await fx.admin.session.set(paths.command(touched), Buffer.from(JSON.stringify(doc51)));
    const untouched = await issue({ device: 'inv-1', point: 'activePowerLimit', value: 52 });

    const writes: WriteRecord[] = [];
    const agent = startAgent(config, writes);
    fx.agents.push(agent);
    await waitForLeader(agent, 10_000);
    const results = await op.awaitResults([rewritten, touched, untouched], 10_000);
    for (const name of [rewritten, touched]) {
      expect(results.get(name)?.status).toBe('rejected');
      expect(results.get(name)?.error).toMatch(/modified after it was created \(data version 1, expected 0\)/);
      expect(results.get(name)?.readBack).toBeNull();
    }
    expect(results.get(untouched)?.status).toBe('applied');
    // Only the untouched command reached the device; the rewritten value never did.
    expect(agent.handler.applyCalls.map((c) => c.value)).toEqual([52]);
    expect(writes.map((w) => w.value)).toEqual([52]);
  });
});
