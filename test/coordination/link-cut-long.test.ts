// Done when: "Link cut for longer: session expires; the agent notices, gets a new session,
// re-creates its ephemeral nodes, re-queues for the lock." (Ephemeral nodes back within 1 s.)
import { performance } from 'node:perf_hooks';
import { beforeAll, describe, expect, it } from 'vitest';
import { LOCK_PREFIX, sortBySequence } from '../../src/coordination/paths.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { pathsOf, siteConfig, sleep, startAgent, uniqueSite, waitFor, waitForLeader, type WriteRecord, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterAll');
let proxy: TcpProxy;

beforeAll(async () => {
  proxy = await startTcpProxy({ port: fx.zk.port });
  fx.closers.push(() => proxy.close());
});

describe('link cut for longer than the session timeout', () => {
  it('session expires; the agent gets a new session, re-creates its nodes within 1 s and queues again', async () => {
    const site = uniqueSite('long');
    const configA = siteConfig({ site, agentId: 'gw-a', connect: proxy.address, sessionTimeoutMs: T_MS });
    const configB = siteConfig({ site, agentId: 'gw-b', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const paths = pathsOf(configA);
    const op = fx.admin.site(paths);
    const writes: WriteRecord[] = [];
    const a = startAgent(configA, writes);
    fx.agents.push(a);
    const tokenA = await waitForLeader(a, 10_000);
    const b = startAgent(configB, writes);
    fx.agents.push(b);
    await b.coordinator.ready();
    const oldSession = a.coordinator.sessionId;
    a.coordinator.publishReadings({ site, agentId: 'gw-a', seq: 7, devices: {} });
    await waitFor('readings published', async () => (await op.readings('gw-a'))?.seq === 7, { timeoutMs: 3000 });

    await proxy.refuse(true);
    proxy.cutAll();
    // B takes over once A's session has expired on the server; A's nodes went with it.
    const tokenB = await waitForLeader(b, T_MS + 5000);
    expect(BigInt(tokenB)).toBeGreaterThan(BigInt(tokenA));
    expect(await op.stat(paths.agent('gw-a'))).toBeNull();
    expect(a.coordinator.state).toBe('suspended'); // A cannot know yet: it cannot reach the server
    await sleep(300);
    await proxy.refuse(false);

    // A notices the expiry as soon as it reaches a server again, and starts a new session.
    const sessionEvent = await waitFor(
      'a new session for A',
      () => a.events.filter((e) => e.name === 'session').at(1),
      { timeoutMs: 10_000, intervalMs: 10 },
    );
    expect(a.events.some((e) => e.name === 'state:lost')).toBe(true);
    const newSession = a.coordinator.sessionId;
    expect(newSession).not.toBe(oldSession);
    expect(sessionEvent.detail).toBe(newSession);

    // Its ephemeral nodes are back, owned by the new session, within 1 s of it.
    await waitFor(
      "A's ephemeral nodes under the new session",
      async () => {
        const [agentStat, readingsStat] = await Promise.all([
          op.stat(paths.agent('gw-a')),
          op.stat(paths.reading('gw-a')),
        ]);
        return agentStat?.ephemeralOwner === newSession && readingsStat?.ephemeralOwner === newSession;
      },
      { timeoutMs: 3000, intervalMs: 10 },
    );
    expect(performance.now() - sessionEvent.atMs).toBeLessThan(1000);
    // The latest readings, not stale ones, and a current agent document.
    const readings = await op.readings('gw-a');
    expect(readings?.seq).toBe(7);
    const doc = await op.agent('gw-a');
    expect(doc).toMatchObject({ agentId: 'gw-a', site, sessionId: newSession, leader: false, token: null });
    expect(Object.keys(doc ?? {}).sort()).toEqual(['agentId', 'host', 'leader', 'pid', 'sessionId', 'site', 'startedAt', 'token', 'version']);

    // Queued again for the lock, behind B: one node per live agent, none left from the old session.
    await waitFor('A queued for the lock', () => a.coordinator.lock.nodeName !== null, { timeoutMs: 3000 });
    const lockNodes = sortBySequence(await op.children(paths.lock), LOCK_PREFIX);
    expect(lockNodes).toHaveLength(2);
    const owners = await Promise.all(lockNodes.map((n) => op.stat(paths.lockNode(n.name))));
    expect(owners.map((s) => s?.ephemeralOwner)).toEqual([b.coordinator.sessionId, newSession]);
    expect(a.coordinator.isLeader).toBe(false);

    // When B leaves, A takes the lock with a new, larger token.
    await b.close();
    const tokenA2 = await waitForLeader(a, 5000);
    expect(BigInt(tokenA2)).toBeGreaterThan(BigInt(tokenB));
    await waitFor('the agent document to show A as leader', async () => {
      const d = await op.agent('gw-a');
      return d?.leader === true && d.token === tokenA2;
    }, { timeoutMs: 3000 });
  });
});
