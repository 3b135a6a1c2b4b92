// SiteCoordinator as the agent uses it: the SIGTERM path (finish the write in flight, release the
// lock, close the session so the ephemeral nodes vanish at once), `failed` results, pruning of old
// results, the agent document and the readings snapshot.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { COMMAND_PREFIX, sortBySequence } from '../../src/coordination/paths.js';
import { pathsOf, siteConfig, startAgent, uniqueSite, waitFor, waitForLeader, type WriteRecord, useZooKeeper } from './harness.js';

const T_MS = 4000;
const fx = useZooKeeper('afterEach');

describe('SiteCoordinator', () => {
  it('close(): finishes the write in flight, then hands the lock over at once, nodes gone at once', async () => {
    const site = uniqueSite('close');
    const writes: WriteRecord[] = [];
    const a = startAgent(siteConfig({ site, agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS }), writes, {
      handler: { applyDelayMs: 300 },
    });
    fx.agents.push(a);
    await waitForLeader(a, 10_000);
    const b = startAgent(siteConfig({ site, agentId: 'gw-b', connect: fx.zk.connectString, sessionTimeoutMs: T_MS }), writes);
    fx.agents.push(b);
    await b.coordinator.ready();
    const paths = pathsOf(siteConfig({ site, agentId: 'gw-a', connect: '', sessionTimeoutMs: T_MS }));
    const op = fx.admin.site(paths);

    const cmd = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 60 });
    await waitFor('the write to start', () => a.handler.applyCalls.length === 1, { timeoutMs: 5000 });
    await a.close(); // what SIGTERM does
    const closedAtMs = performance.now();
    // The write in flight ended and got its result from A before A let go.
    expect(writes.map((w) => `${w.agent}:${String(w.value)}`)).toEqual(['gw-a:60']);
    expect(await op.result(cmd)).toMatchObject({ status: 'applied', agentId: 'gw-a' });
    // A's ephemeral nodes are gone now, not after the session timeout; B leads well before T.
    expect(await op.stat(paths.agent('gw-a'))).toBeNull();
    expect(await op.stat(paths.reading('gw-a'))).toBeNull();
    await waitForLeader(b, 2000);
    expect(performance.now() - closedAtMs).toBeLessThan(T_MS / 2);
    expect(a.coordinator.state).toBe('lost');
    await a.close(); // once only: a second call is harmless
  });

  it('writes `failed` when the device refuses, and prunes results beyond resultsKept, oldest first', async () => {
    const config = siteConfig({ site: uniqueSite('prune'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS, resultsKept: 3 });
    const paths = pathsOf(config);
    const op = fx.admin.site(paths);
    const a = startAgent(config, [], { handler: { failValues: [13] } });
    fx.agents.push(a);
    await waitForLeader(a, 10_000);
    const names: string[] = [];
    for (const value of [11, 12, 13, 14, 15, 16]) names.push(await op.submit({ device: 'inv-1', point: 'activePowerLimit', value }));
    await waitFor('all handled', async () => (await op.pendingCommands()).length === 0, { timeoutMs: 10_000 });
    await waitFor('pruned to 3', async () => (await op.children(paths.results)).length === 3, { timeoutMs: 5000 });
    const kept = sortBySequence(await op.children(paths.results), COMMAND_PREFIX).map((r) => r.name);
    expect(kept).toEqual(names.slice(3));
    expect(a.coordinator.commandCounts()).toEqual({ applied: 5, rejected: 0, failed: 1, expired: 0 });
    expect(a.events.filter((e) => e.name === 'error')).toEqual([]);
  });

  it('failed result carries the device error', async () => {
    const config = siteConfig({ site: uniqueSite('failed'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const op = fx.admin.site(pathsOf(config));
    const a = startAgent(config, [], { handler: { failValues: [13] } });
    fx.agents.push(a);
    await waitForLeader(a, 10_000);
    const cmd = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 13 });
    const result = (await op.awaitResults([cmd], 5000)).get(cmd);
    expect(result).toMatchObject({ status: 'failed', readBack: null });
    expect(result?.error).toMatch(/server device failure/);
  });

  it('publishes the agent document and the readings snapshot, keeping leader and token current', async () => {
    const site = uniqueSite('docs');
    const config = siteConfig({ site, agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS, publishIntervalMs: 100 });
    const paths = pathsOf(config);
    const op = fx.admin.site(paths);
    const a = startAgent(config, []);
    fx.agents.push(a);
    const token = await waitForLeader(a, 10_000);
    await waitFor('agent document with leader and token', async () => {
      const doc = await op.agent('gw-a');
      return doc?.leader === true && doc.token === token ? doc : undefined;
    }, { timeoutMs: 3000 }).then((doc) => {
      expect(doc).toMatchObject({ agentId: 'gw-a', site, pid: process.pid, version: '0.0.0-test', sessionId: a.coordinator.sessionId });
      expect(Date.parse(String(doc.startedAt))).toBeGreaterThan(0);
      expect(typeof doc.host).toBe('string');
    });
    const snapshot = { site, agentId: 'gw-a', seq: 3, publishedAt: new Date().toISOString(), leader: true, devices: { 'inv-1': { status: 'ok' } } };
    a.coordinator.publishReadings(snapshot);
    await waitFor('the snapshot', async () => (await op.node(paths.reading('gw-a')))?.data.toString() === JSON.stringify(snapshot), {
      timeoutMs: 3000,
    });
  });
});
