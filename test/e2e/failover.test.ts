// End to end, with real processes: two `gridkeeper run` agents of one site, a `gridkeeper simulate`
// process serving the devices (it logs every write it receives), one real ZooKeeper server.
// The leader dies (SIGKILL), stops cleanly (SIGTERM), or is restarted with the same agent id.
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAllChildren } from '../../tools/devtools/processes.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { closeSiteClients, E2eSite, gridkeeper, leaderAndStandby } from './harness.js';

/** Requested (and, with tickTime 200 ms, granted) session timeout of the agents. */
const T_MS = 3000;
const RESTART_T_MS = 8000;

let zk: ZkServer;

beforeAll(async () => {
  zk = await startZooKeeper({ tickTimeMs: 200 });
});

afterEach(async () => {
  await killAllChildren();
});

afterAll(async () => {
  await killAllChildren();
  await closeSiteClients();
  await zk?.stop();
});

describe('leader killed with SIGKILL', () => {
  it('the standby applies the queued commands within session timeout + 2 s of the kill, each once, with a larger token', async () => {
    const site = await E2eSite.start({ zkConnect: zk.connectString, sessionTimeoutMs: T_MS });
    const op = await site.client();
    const { a, b, tokenA } = await leaderAndStandby(site);

    // Two commands the leader applies while alive: their results carry its token.
    const early = [await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 11 })];
    early.push(await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 12 }));
    const earlyResults = await op.awaitResults(early, 10_000);
    for (const name of early) expect(earlyResults.get(name)).toMatchObject({ status: 'applied', agentId: 'gw-a', token: tokenA });

    // Freeze the leader (SIGSTOP) so that commands queue up behind it: a frozen process neither
    // applies them nor answers ZooKeeper. Then kill it. Freezing first makes "none applied twice"
    // deterministic: a kill landing between a device write and its result would legitimately make
    // the successor redo that (absolute) setpoint, which the coordination tests cover.
    a.child.kill('SIGSTOP');
    const queued: string[] = [];
    for (let v = 13; v <= 17; v++) queued.push(await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: v }));
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.child.exited;
    // And a few more while the dead leader's session still holds the lock.
    for (let v = 18; v <= 20; v++) queued.push(await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: v }));

    // The standby can take over only once the dead leader's session expires: at most T after it was
    // last heard (before the SIGSTOP), rounded up to the server's 200 ms tick. The bound of the issue,
    // T + 2 s, leaves the rest for noticing, verifying the lock and working through 8 commands.
    const results = await op.awaitResults(queued, T_MS + 10_000);
    const doneAfterMs = Date.now() - killedAt;
    console.log(`SIGKILL: ${queued.length} queued commands applied by the standby ${doneAfterMs} ms after the kill`);
    expect(doneAfterMs).toBeLessThan(T_MS + 2000);

    const leaderLineB = await b.leader(1000);
    const tokenB = String(leaderLineB.token);
    expect(BigInt(tokenB)).toBeGreaterThan(BigInt(tokenA));
    for (const name of queued) expect(results.get(name)).toMatchObject({ status: 'applied', agentId: 'gw-b', token: tokenB, error: null });

    // Exactly one result per command (results/ has exactly our 7 names) and nothing left pending.
    expect([...results.keys()].sort()).toEqual([...early, ...queued].sort());
    expect(await op.children(site.paths.commands)).toEqual([]);

    // The simulator received each value exactly once, in submission order, the queued ones from
    // the standby's Modbus connection only (the dead leader's connection wrote 11 and 12). The
    // limit is held (CONTRACT.md section 7): before any command the standby re-asserts 12, the
    // setpoint the dead leader held.
    const writes = site.limitWrites();
    expect(writes.map((w) => w.percent)).toEqual([11, 12, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    const peerA = writes[0]?.peer;
    expect(writes[1]?.peer).toBe(peerA);
    const peersAfter = new Set(writes.slice(2).map((w) => w.peer));
    expect(peersAfter.size).toBe(1);
    expect(peersAfter.has(peerA ?? '')).toBe(false);
    expect(writes.every((w) => w.outcome === 'applied')).toBe(true);
  });
});

describe('leader stopped with SIGTERM', () => {
  it('hands over in under 1 s, its ephemeral nodes are gone at once, and it exits 0 within 5 s', async () => {
    const site = await E2eSite.start({ zkConnect: zk.connectString, sessionTimeoutMs: T_MS });
    const op = await site.client();
    const { a, b, tokenA } = await leaderAndStandby(site);
    // Both agents have published their nodes.
    await waitFor('readings of both agents', async () => (await op.children(site.paths.readings)).length === 2, { timeoutMs: 10_000 });
    expect(await op.agents()).toEqual(['gw-a', 'gw-b']);

    const from = b.child.lines.length;
    const stoppedAt = Date.now();
    a.child.kill('SIGTERM');
    const leaderLineB = await b.child.waitForJson((o) => o.msg === 'site lock acquired: leader', 5000, { from });
    const status = await a.child.exited;
    const exitedAfterMs = Date.now() - stoppedAt;
    // Checked at once, well before the session timeout (3 s) could have removed them: the agent
    // closed its session on the way out.
    const agentNodeLeft = (await op.stat(site.paths.agent('gw-a'))) !== null;
    const readingsNodeLeft = (await op.stat(site.paths.reading('gw-a'))) !== null;
    const checkedAfterMs = Date.now() - stoppedAt;

    expect(status).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeLessThan(5000); // CONTRACT.md: exit 0 within 5 s
    expect(agentNodeLeft).toBe(false);
    expect(readingsNodeLeft).toBe(false);
    expect(checkedAfterMs).toBeLessThan(T_MS);
    // Handover: the standby logged its leadership less than 1 s after the SIGTERM was sent (both
    // times from this machine's clock: pino's `time` in the agent, Date.now() here).
    expect(Number(leaderLineB.time) - stoppedAt).toBeLessThan(1000);
    expect(BigInt(String(leaderLineB.token))).toBeGreaterThan(BigInt(tokenA));
    expect(a.child.stdout()).toContain('"msg":"agent stopped"');

    // The new leader acts: a command is applied by gw-b.
    const name = await op.submit({ device: 'wt-1', point: 'curtailmentSetpoint', value: 1200 });
    const results = await op.awaitResults([name], 10_000);
    expect(results.get(name)).toMatchObject({ status: 'applied', agentId: 'gw-b', readBack: 1200 });
  });
});

describe('agent restarted with the same id', () => {
  it('a restart right after SIGKILL waits out the old session; a second live agent with that id names it, stays out, and takes over when it stops', async () => {
    // A longer session timeout here: the restarted process must be up and connected while the old
    // session still lives, and starting Node with the product's modules takes seconds on 2 loaded
    // cores (with T = 3 s the old node was sometimes gone before the restart looked).
    const T_MS = RESTART_T_MS;
    const site = await E2eSite.start({ zkConnect: zk.connectString, sessionTimeoutMs: T_MS });
    const op = await site.client();
    const first = await site.startAgent('gw-a');
    await first.leader();
    const oldOwner = (await op.stat(site.paths.agent('gw-a')))?.ephemeralOwner;
    expect(oldOwner).toBeDefined();

    first.child.kill('SIGKILL');
    await first.child.exited;
    const killedAt = Date.now();
    // The old session's ephemeral node lingers until the session expires (about T).
    expect(await op.stat(site.paths.agent('gw-a'))).not.toBeNull();

    const second = await site.startAgent('gw-a');
    await second.child.waitForJson((o) => typeof o.msg === 'string' && /waiting for it to vanish/.test(o.msg), 10_000);
    // It waits for the old node to go, then publishes its own and takes the free lock. Bound: the
    // old session expires T after it was last heard (tick-rounded); 10 s more for a loaded machine.
    await second.leader(T_MS + 10_000);
    const readyAfterMs = Date.now() - killedAt;
    expect(second.child.isRunning()).toBe(true);
    const node = await op.node(site.paths.agent('gw-a'));
    expect(node?.stat.ephemeralOwner).not.toBe(oldOwner);
    // The agent document follows the leadership within a publish interval (200 ms).
    await waitFor(
      'the new agent document to say leader',
      async () => {
        const doc = (await op.agent('gw-a')) ?? {};
        return doc.pid === second.child.pid && doc.leader === true && doc.agentId === 'gw-a';
      },
      { timeoutMs: 5000 },
    );
    // It cannot have taken over before the old session expired.
    expect(readyAfterMs).toBeGreaterThan(T_MS / 2);

    // A second live agent with the same id beside the running one (CONTRACT.md section 8): once the
    // node has outlived a session timeout (+1 s) it names the other in one error line, /healthz and
    // `status`, and stays out: no exit (no restart loop), no readings, no lock node.
    const clash = await site.startAgent('gw-a');
    const named = await clash.child.waitForJson((o) => o.level === 50 && String(o.msg).startsWith('another live agent has agent id gw-a'), T_MS + 15_000);
    expect(named).toMatchObject({ duplicateOf: { host: hostname(), pid: second.child.pid }, self: { host: hostname(), pid: clash.child.pid } });
    expect(String(named.msg)).toMatch(new RegExp(`host ${hostname()} pid ${second.child.pid} `));
    expect(JSON.stringify(named)).not.toMatch(/stack/);
    const health = await clash.health();
    expect(health.httpStatus).toBe(200);
    expect(health.body).toMatchObject({ status: 'degraded', leader: false, duplicateOf: { host: hostname(), pid: second.child.pid } });
    expect(typeof (health.body.duplicateOf as { since?: unknown }).since).toBe('string');
    const status = await gridkeeper(['status', '--zookeeper', zk.connectString, '--site', site.site]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(`^CONFLICT: agent id gw-a runs twice: host ${hostname()} pid ${second.child.pid} publishes; host ${hostname()} pid ${clash.child.pid} \\(since `, 'm'),
    );
    // The running agent is untouched: still alive, still the owner of its nodes, still leading.
    await sleep(300);
    expect(clash.child.isRunning()).toBe(true);
    expect(second.child.isRunning()).toBe(true);
    expect((await op.stat(site.paths.agent('gw-a')))?.ephemeralOwner).toBe(node?.stat.ephemeralOwner);
    expect((await op.stat(site.paths.reading('gw-a')))?.ephemeralOwner).toBe(node?.stat.ephemeralOwner);
    expect(await op.lockQueue()).toHaveLength(1);
    const name = await op.submit({ device: 'inv-1', point: 'enabled', value: false });
    const results = await op.awaitResults([name], 10_000);
    expect(results.get(name)).toMatchObject({ status: 'applied', agentId: 'gw-a' });
    expect((await op.results()).size).toBe(1);

    // The earlier one stops: the later one publishes and takes the lock as usual, its trace gone.
    await second.child.stop(5000);
    await clash.leader(10_000);
    expect(clash.child.isRunning()).toBe(true);
    expect((await op.agent('gw-a'))?.pid).toBe(clash.child.pid);
    expect((await clash.health()).body.duplicateOf).toBeUndefined();
    expect(await op.children(site.paths.conflicts)).toEqual([]);
  });
});
