// The site lock recipe in detail: each waiter watches only its predecessor (no herd), hand-over in
// queue order, no orphan lock node when a create's answer is lost to a cut link, and the gate's
// reaction to an event-loop stall.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { LOCK_PREFIX, sortBySequence } from '../../src/coordination/paths.js';
import { AnswerDroppingProxy } from './answer-dropping-proxy.js';
import { pathsOf, siteConfig, sleep, startAgent, uniqueSite, waitFor, waitForLeader, type TestAgent, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterEach');

/** `wchp`: watched paths, each followed by the sessions watching it. */
async function watchersByPath(): Promise<Map<string, string[]>> {
  const text = await fx.zk.fourLetter('wchp');
  const map = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('/')) {
      current = [];
      map.set(line, current);
    } else if (line.startsWith('0x') && current) {
      current.push(line);
    }
  }
  return map;
}

describe('SiteLock', () => {
  it('each waiter watches only its predecessor; release hands over in queue order', async () => {
    const site = uniqueSite('herd');
    const ids = ['gw-1', 'gw-2', 'gw-3', 'gw-4'];
    const all: TestAgent[] = [];
    for (const id of ids) {
      const agent = startAgent(siteConfig({ site, agentId: id, connect: fx.zk.connectString, sessionTimeoutMs: T_MS }), []);
      fx.agents.push(agent);
      all.push(agent);
      await agent.coordinator.ready();
      await waitFor(`${id} queued`, () => agent.coordinator.lock.nodeName !== null, { timeoutMs: 5000 });
    }
    const paths = pathsOf(siteConfig({ site, agentId: 'gw-1', connect: fx.zk.connectString, sessionTimeoutMs: T_MS }));
    const op = fx.admin.site(paths);
    await waitForLeader(all[0] as TestAgent, 5000);
    const queue = sortBySequence(await op.children(paths.lock), LOCK_PREFIX);
    expect(queue.map((n) => n.name)).toEqual(all.map((a) => a.coordinator.lock.nodeName));

    await waitFor(
      'each waiter to watch its predecessor',
      async () => {
        const watches = await watchersByPath();
        return all.slice(1).every((agent, i) => (watches.get(paths.lockNode(queue[i]?.name ?? '')) ?? []).includes(agent.coordinator.sessionId ?? '?'));
      },
      { timeoutMs: 5000 },
    );
    const watches = await watchersByPath();
    for (let i = 0; i < queue.length; i++) {
      const watchers = watches.get(paths.lockNode(queue[i]?.name ?? '')) ?? [];
      // Watched at most by its owner (the holder watches its own node) and its successor, no one else.
      const allowed = [all[i]?.coordinator.sessionId, all[i + 1]?.coordinator.sessionId];
      expect(watchers.every((w) => allowed.includes(w)), `${queue[i]?.name}: ${watchers.join(',')}`).toBe(true);
    }
    expect(watches.has(paths.lock)).toBe(false); // nobody watches the children of lock/: no herd on changes

    // Releasing hands the lock down the queue, one by one, each with a larger token.
    let lastToken = 0n;
    for (let i = 0; i < all.length; i++) {
      const agent = all[i] as TestAgent;
      const token = BigInt(await waitForLeader(agent, 5000));
      expect(token).toBeGreaterThan(lastToken);
      lastToken = token;
      for (const later of all.slice(i + 1)) expect(later.coordinator.isLeader).toBe(false);
      await agent.close();
    }
    expect(await op.children(paths.lock)).toEqual([]);
  });

  it('leaves no orphan lock node when the answer to its create is lost to a cut link', async () => {
    const site = uniqueSite('orphan');
    const proxy = await AnswerDroppingProxy.start(fx.zk.port);
    fx.closers.push(() => proxy.close());
    const config = siteConfig({ site, agentId: 'gw-a', connect: proxy.address, sessionTimeoutMs: T_MS });
    const paths = pathsOf(config);
    const op = fx.admin.site(paths);
    const log = { lines: [] as Record<string, unknown>[], level: 'info' };
    const a = startAgent(config, [], { logSink: log });
    fx.agents.push(a);
    const first = await waitForLeader(a, 10_000);
    const firstNode = a.coordinator.lock.nodeName ?? '';

    // Delete A's lock node behind its back: A queues again with a new create. The proxy lets that
    // create through to the server, swallows the answer and cuts the link: A gets CONNECTIONLOSS
    // for a node that exists. The session survives the short cut.
    const lost = proxy.arm([`-${LOCK_PREFIX}`, '{"agentId":"gw-a"}']);
    // Raw: deleting an agent's lock node is fault injection, nothing an operator client does.
    await fx.admin.session.delete(paths.lockNode(firstNode));
    await lost;
    const children = await op.children(paths.lock);
    expect(children).toHaveLength(1); // the create did happen
    const made = children[0] ?? '';
    expect(made).not.toBe(firstNode);

    const token = await waitForLeader(a, 5000);
    expect(BigInt(token)).toBeGreaterThan(BigInt(first));
    expect(a.events.some((e) => e.name === 'state:lost')).toBe(false);
    // A found the node its lost create made (by its unique prefix) instead of making another one.
    expect(log.lines.some((l) => l.msg === 'found the lock node of a create whose answer was lost' && l.node === made)).toBe(true);
    expect(a.coordinator.lock.nodeName).toBe(made);
    await sleep(300);
    expect(await op.children(paths.lock)).toEqual([made]);
    expect((await op.stat(paths.lockNode(made)))?.ephemeralOwner).toBe(a.coordinator.sessionId);
  });

  it('an event-loop stall closes the gate at once; the lock is re-verified before it opens again', async () => {
    const config = siteConfig({ site: uniqueSite('stall'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const a = startAgent(config, []);
    fx.agents.push(a);
    const token = await waitForLeader(a, 10_000);
    await waitFor('gate open', () => a.coordinator.gate.isOpen(), { timeoutMs: 3000 });
    // Blocked for 700 ms: over the stall threshold (T/4 = 500 ms), under the lease (T/2 = 1000 ms).
    const until = performance.now() + 700;
    while (performance.now() < until) {
      /* a long synchronous task */
    }
    // The first thing that runs after the stall (here: us) already finds the gate shut.
    expect(a.coordinator.gate.guard()).toBe(false);
    await waitFor('suspended after the stall', () => a.events.some((e) => e.name === 'state:suspended'), { timeoutMs: 2000 });
    await waitFor('gate open again', () => a.coordinator.gate.isOpen(), { timeoutMs: 5000 });
    expect(a.coordinator.token).toBe(token); // same lock, verified again with the server
    expect(a.events.filter((e) => e.name === 'leader').length).toBeGreaterThanOrEqual(2);
  });
});
