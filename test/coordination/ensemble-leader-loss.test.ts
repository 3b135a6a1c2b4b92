// Done when: "The ZooKeeper ensemble loses its leader server: agents keep their sessions."
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnsemble, type ZkEnsemble } from '../../tools/devtools/zookeeper.js';
import { Admin, pathsOf, siteConfig, startAgent, uniqueSite, waitFor, waitForLeader, type TestAgent, type WriteRecord } from './harness.js';

// Long enough to ride out a leader election on a busy 2-core machine (servers elect in ~1 s with
// the helper's settings; clients then reconnect to a surviving server with their session).
const T_MS = 8000;
let ensemble: ZkEnsemble;
let admin: Admin;
const agents: TestAgent[] = [];

beforeAll(async () => {
  ensemble = await startEnsemble(3, { tickTimeMs: 200 });
  admin = await Admin.open(ensemble.connectString, { sessionTimeoutMs: T_MS });
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await admin?.close();
  await ensemble?.close();
});

describe('ensemble loses its leader server', () => {
  it('agents keep their sessions, lock, token and ephemeral nodes', async () => {
    const site = uniqueSite('ensemble');
    const configA = siteConfig({ site, agentId: 'gw-a', connect: ensemble.connectString, sessionTimeoutMs: T_MS });
    const configB = siteConfig({ site, agentId: 'gw-b', connect: ensemble.connectString, sessionTimeoutMs: T_MS });
    const paths = pathsOf(configA);
    const op = admin.site(paths);
    const writes: WriteRecord[] = [];
    const a = startAgent(configA, writes);
    agents.push(a);
    const token = await waitForLeader(a, 15_000);
    const b = startAgent(configB, writes);
    agents.push(b);
    await b.coordinator.ready();
    const sessions = { a: a.coordinator.sessionId, b: b.coordinator.sessionId };
    const first = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 1 });
    await op.awaitResults([first], 10_000);

    const leader = await ensemble.leader();
    await leader.kill();
    await ensemble.waitForQuorum({ timeoutMs: 30_000 });

    // Both agents are back on a surviving server, with the sessions they had.
    await waitFor('both agents connected again', () => a.coordinator.state === 'connected' && b.coordinator.state === 'connected', {
      timeoutMs: T_MS,
    });
    expect(a.coordinator.sessionId).toBe(sessions.a);
    expect(b.coordinator.sessionId).toBe(sessions.b);
    for (const agent of [a, b]) {
      // Every server drops its clients when the quorum loses its leader: both were cut off...
      expect(agent.events.some((e) => e.name === 'state:suspended')).toBe(true);
      // ...and neither lost its session.
      expect(agent.events.some((e) => e.name === 'state:lost')).toBe(false);
      expect(agent.events.filter((e) => e.name === 'session')).toHaveLength(1);
    }
    // A holds the lock again under its one token (re-verified after the reconnect), B never did.
    expect(await waitForLeader(a, T_MS)).toBe(token);
    expect(b.events.some((e) => e.name === 'leader')).toBe(false);
    const owners = await Promise.all([paths.agent('gw-a'), paths.agent('gw-b')].map((p) => op.stat(p)));
    expect(owners.map((s) => s?.ephemeralOwner)).toEqual([sessions.a, sessions.b]);

    // And it goes on working.
    const second = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 2 });
    const results = await op.awaitResults([second], 10_000);
    expect(results.get(second)).toMatchObject({ status: 'applied', agentId: 'gw-a', token });
    expect(writes.map((w) => `${w.agent}:${String(w.value)}`)).toEqual(['gw-a:1', 'gw-a:2']);
  });
});
