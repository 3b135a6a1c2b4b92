// SiteClient, the operator's side of the site tree, against a real server and real coordinators:
// submit and await results (valid and malformed commands), a wait that runs out, the lock queue in
// its order, bad data shown rather than fatal, and open() giving up on a server nobody answers on.
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectTimeoutError, CoordinationTimeoutError, InvalidDocumentError } from '../../src/coordination/errors.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { ensurePath } from '../../src/coordination/tree.js';
import { pathsOf, siteConfig, startAgent, testLogger, uniqueSite, waitFor, waitForLeader, type TestAgent, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterEach');
const clients: SiteClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function open(site: string): Promise<SiteClient> {
  const client = await SiteClient.open({ connect: fx.zk.connectString, site }, { logger: testLogger('site-client') });
  clients.push(client);
  return client;
}

function agent(site: string, agentId: string): TestAgent {
  const a = startAgent(siteConfig({ site, agentId, connect: fx.zk.connectString, sessionTimeoutMs: T_MS }), []);
  fx.agents.push(a);
  return a;
}

describe('SiteClient', () => {
  it('submits a command and reads its result; a malformed document is submitted as it is and rejected', async () => {
    const site = uniqueSite('client');
    const a = agent(site, 'gw-a');
    const token = await waitForLeader(a, 10_000);
    const client = await open(site);

    const id = await client.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'test' });
    expect(id).toMatch(/^cmd-\d{10}$/);
    const result = await client.awaitResult(id, 10_000);
    expect(result).toMatchObject({ status: 'applied', agentId: 'gw-a', token, readBack: 42, error: null });
    expect(result?.command).toEqual({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'test' });
    expect(result?.lock).toBe(a.coordinator.lock.hold?.lockName);
    expect(await client.result(id)).toEqual(result);

    const raw = await client.submit('{"device": "inv-1", "point": ');
    const rejected = await client.awaitResult(raw, 10_000);
    expect(rejected).toMatchObject({ status: 'rejected', command: '{"device": "inv-1", "point": ', error: expect.stringMatching(/^malformed JSON/) });

    // Both handled and gone from commands/; results() has them in submission order.
    const results = await client.awaitResults([id, raw], 5000);
    expect([...results.keys()]).toEqual([id, raw]);
    expect(await client.pendingCommands()).toEqual([]);
    expect(a.handler.applyCalls.map((c) => c.value)).toEqual([42]);
  });

  it('with no agent: makes commands/ for the command, which stays pending; awaitResult gives null after its wait', async () => {
    const client = await open(uniqueSite('noagent'));
    const id = await client.submit({ device: 'inv-1', point: 'activePowerLimit', value: 10 });
    expect(id).toBe('cmd-0000000000');
    const startedMs = performance.now();
    expect(await client.awaitResult(id, 300)).toBeNull();
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(290);
    await expect(client.awaitResults([id], 200)).rejects.toBeInstanceOf(CoordinationTimeoutError);
    const pending = await client.pendingCommands();
    expect(pending).toEqual([{ id, createdAt: expect.any(String), command: { device: 'inv-1', point: 'activePowerLimit', value: 10 } }]);
    expect(Math.abs(Date.parse(pending[0]?.createdAt ?? '') - Date.now())).toBeLessThan(60_000);
    expect(await client.lockQueue()).toEqual([]);
    expect(await client.results()).toEqual(new Map());
  });

  it('lists the lock queue lowest first: the holder with its token, then the waiters in order', async () => {
    const site = uniqueSite('queue');
    const agents: TestAgent[] = [];
    for (const id of ['gw-1', 'gw-2', 'gw-3']) {
      const a = agent(site, id); // one after the other: the queue is in creation order
      agents.push(a);
      await a.coordinator.ready();
      await waitFor(`${id} queued`, () => a.coordinator.lock.nodeName !== null, { timeoutMs: 5000 });
    }
    const token = await waitForLeader(agents[0] as TestAgent, 5000);
    const client = await open(site);

    const queue = await client.lockQueue();
    expect(queue.map((e) => e.agentId)).toEqual(['gw-1', 'gw-2', 'gw-3']);
    expect(queue.map((e) => e.node)).toEqual(agents.map((a) => a.coordinator.lock.nodeName));
    expect(queue[0]).toMatchObject({ token, lock: expect.stringMatching(/^lock-\d{10}$/) });
    expect(queue.every((e) => e.node.endsWith(e.lock))).toBe(true);
    expect(Math.abs(Date.parse(queue[0]?.since ?? '') - Date.now())).toBeLessThan(60_000);
    expect(await client.agents()).toEqual(['gw-1', 'gw-2', 'gw-3']);
    expect(await client.agent('gw-1')).toMatchObject({ agentId: 'gw-1', site });

    // The view `gridkeeper status` prints says the same; the queue follows a release.
    expect((await client.view()).lock).toMatchObject({ holder: 'gw-1', token, node: queue[0]?.lock, waiters: ['gw-2', 'gw-3'] });
    await agents[0]?.close();
    await waitForLeader(agents[1] as TestAgent, 5000);
    expect((await client.lockQueue()).map((e) => e.agentId)).toEqual(['gw-2', 'gw-3']);
  });

  it('shows what is not a valid document instead of failing, and says so for a result one waits for', async () => {
    const site = uniqueSite('baddata');
    const client = await open(site);
    const paths = pathsOf(siteConfig({ site, agentId: 'x', connect: '', sessionTimeoutMs: T_MS }));
    // Written raw, as any program with access could: no agent writes such things.
    await ensurePath(fx.admin.session, paths.results, null);
    await ensurePath(fx.admin.session, paths.agents, null);
    await fx.admin.session.create(paths.result('cmd-0000000005'), Buffer.from('garbage'), 'persistent');
    await fx.admin.session.create(paths.agent('gw-x'), Buffer.from('[1,2]'), 'persistent');

    await expect(client.result('cmd-0000000005')).rejects.toBeInstanceOf(InvalidDocumentError);
    await expect(client.awaitResult('cmd-0000000005', 1000)).rejects.toMatchObject({ code: 'INVALID_DOCUMENT', path: paths.result('cmd-0000000005') });
    expect(await client.agent('gw-x')).toBeNull();
    const view = await client.view();
    expect(view.recentResults).toEqual([{ id: 'cmd-0000000005', result: 'garbage' }]);
    expect(view.agents).toEqual([{ agentId: 'gw-x', document: null, readings: null }]);
  });

  it('open() gives up with ConnectTimeoutError when no server answers', async () => {
    const err = await SiteClient.open({ connect: '127.0.0.1:1', site: 'x', connectTimeoutMs: 500 }, { logger: testLogger('nobody') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectTimeoutError);
    expect(err).toMatchObject({ code: 'CONNECT_TIMEOUT', retryable: true, message: 'could not connect to ZooKeeper at 127.0.0.1:1 within 500 ms' });
  });
});
