// Done when: "Link to ZooKeeper cut while the agent holds the lock (a TCP proxy in the test that it
// can freeze or close): the gate closes within 10 ms of the disconnect; a second agent takes over
// only after the session expires; the simulated device's write log shows no write of the first
// agent after the second's first write, with commands submitted all the time."
// (The Modbus-level version, with the simulator's write log, belongs to the agent's tests.)
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { pathsOf, siteConfig, sleep, startAgent, uniqueSite, waitFor, waitForLeader, type WriteRecord, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterEach');

type Cut = 'close' | 'freeze';

async function takeover(cut: Cut): Promise<void> {
  const site = uniqueSite(`cut-${cut}`);
  const proxy = await startTcpProxy({ port: fx.zk.port });
  fx.closers.push(() => proxy.close());
  const configA = siteConfig({ site, agentId: 'gw-a', connect: proxy.address, sessionTimeoutMs: T_MS });
  const configB = siteConfig({ site, agentId: 'gw-b', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
  const paths = pathsOf(configA);
  const op = fx.admin.site(paths);
  const writes: WriteRecord[] = [];
  const a = startAgent(configA, writes);
  fx.agents.push(a);
  await waitForLeader(a, 10_000);
  const b = startAgent(configB, writes);
  fx.agents.push(b);
  await b.coordinator.ready();

  // Commands all the time: one every 25 ms, straight to the server, until the end.
  const submitted: string[] = [];
  let submitting = true;
  const submitter = (async () => {
    for (let v = 1; submitting; v = (v % 100) + 1) {
      submitted.push(await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: v }));
      await sleep(25);
    }
  })();
  await waitFor('the holder to apply commands', () => writes.filter((w) => w.agent === 'gw-a').length >= 5, { timeoutMs: 10_000 });

  // Observe: when A's client reports the disconnect, when A's gate closes, when A's session ends on
  // the server (its agent node vanishes), when B takes over.
  let reportedAtMs = Infinity;
  let gateOpenAtReport: boolean | null = null;
  let gateClosedAtMs = Infinity;
  a.coordinator.session.on('state', (state) => {
    if (state !== 'connected' && reportedAtMs === Infinity) {
      reportedAtMs = performance.now();
      gateOpenAtReport = a.coordinator.gate.isOpen();
    }
  });
  a.coordinator.gate.on('closed', () => {
    if (gateClosedAtMs === Infinity) gateClosedAtMs = performance.now();
  });
  let aGoneAtMs = Infinity;
  const watchA = (async () => {
    while (aGoneAtMs === Infinity) {
      const stat = await op.stat(paths.agent('gw-a')).catch(() => 'error');
      if (stat === null) aGoneAtMs = performance.now();
      else await sleep(10);
    }
  })();

  const cutAtMs = performance.now();
  if (cut === 'close') {
    await proxy.refuse(true);
    proxy.cutAll();
  } else {
    proxy.freeze();
  }

  const tokenB = await waitForLeader(b, T_MS + 10_000);
  const bLeaderAtMs = performance.now();
  await watchA;

  // The gate closed no later than 10 ms after the client reported the link lost: with a closed
  // connection synchronously in that event; with a silent partition even before it (the lease of
  // T/2 runs out before the client's own 2T/3 read timeout).
  expect(reportedAtMs).toBeLessThan(Infinity);
  expect(gateOpenAtReport).toBe(false);
  expect(gateClosedAtMs - reportedAtMs).toBeLessThanOrEqual(10);
  if (cut === 'close') expect(reportedAtMs - cutAtMs).toBeLessThan(500);

  // B took over only after A's session expired on the server (A's ephemeral node went with it),
  // which is at least T after A was last heard: A renewed its lease every T/6, so after the cut
  // the session lived on for more than T/2 (bounds generous for a loaded machine).
  expect(aGoneAtMs - cutAtMs).toBeGreaterThan(T_MS / 2);
  expect(bLeaderAtMs).toBeGreaterThanOrEqual(aGoneAtMs - 50); // 50 ms: the poll interval of the two observers
  const bFirstWrite = writes.find((w) => w.agent === 'gw-b');
  await waitFor('B to apply a command', () => writes.some((w) => w.agent === 'gw-b'), { timeoutMs: 5000 });

  // Heal the link: A finds its session expired, starts a new one, and queues behind B.
  if (cut === 'close') await proxy.refuse(false);
  else proxy.thaw();
  await waitFor('A back with a new session, as follower', () => a.coordinator.state === 'connected' && a.events.filter((e) => e.name === 'session').length >= 2, {
    timeoutMs: 10_000,
  });
  expect(a.events.some((e) => e.name === 'state:lost')).toBe(true);
  expect(a.coordinator.isLeader).toBe(false);
  await sleep(300);
  submitting = false;
  await submitter;

  // The write log: no write of A after B's first write.
  const firstB = writes.find((w) => w.agent === 'gw-b') ?? bFirstWrite;
  expect(firstB).toBeDefined();
  const lastA = writes.filter((w) => w.agent === 'gw-a').at(-1);
  expect(lastA).toBeDefined();
  expect(lastA?.atMs ?? Infinity).toBeLessThan(firstB?.atMs ?? -Infinity);
  expect(writes.slice(writes.indexOf(firstB as WriteRecord)).every((w) => w.agent === 'gw-b')).toBe(true);
  // A's last write also ended before its session could have expired (the lease proof).
  expect(lastA?.atMs ?? Infinity).toBeLessThan(aGoneAtMs);

  // Every command submitted got exactly one result; B's carry B's token, larger than A's.
  const results = await op.awaitResults(submitted, 15_000);
  expect(results.size).toBe(submitted.length);
  const tokens = new Set([...results.values()].map((r) => r.token));
  expect(tokens.has(tokenB)).toBe(true);
  for (const r of results.values()) expect(['applied', 'expired']).toContain(r.status);
  expect(await op.pendingCommands()).toEqual([]);
}

describe('link cut while holding the lock', () => {
  it('connection closed: gate closes at once, takeover only after expiry, no write of A after B began', async () => {
    await takeover('close');
  });

  it('silent partition (frozen link): the same', async () => {
    await takeover('freeze');
  });
});
