// Issue 11, held setpoints through failover (CONTRACT.md section 7), end to end with real processes:
// two `gridkeeper run` agents, a `gridkeeper simulate` process whose generic inverter runs its own
// 8 s revert timer in real time, a real ZooKeeper (tickTime 200 ms), and a third-party Modbus client
// watching the device. The holder is SIGKILLed with a standby running, every agent is killed, the
// holder's link to ZooKeeper freezes, and a hold ends while nobody leads.
//
// Timing (config/fallback-timing.ts): R = 8 s, T = 3 s, p = 300 ms; 2R/3 = 5333 ms > T + 2p + 1 s.
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { leaderAndStandby, LIMIT_REGISTER, logLines, timeOf } from './harness.js';
import { heldSite, heldSuite, REFRESH_MS, registerWrites, T_MS, UNLIMITED_RAW, WINDOW_MS } from './held-harness.js';

const suite = heldSuite();
let proxy: TcpProxy | null = null;

// Registered after the suite's hooks, so it runs before them (vitest runs after-hooks in reverse).
afterEach(async () => {
  proxy?.thaw();
  await proxy?.close();
  proxy = null;
});

describe('the holder is SIGKILLed with a standby running', () => {
  it('the standby re-asserts the held limit before the device’s window runs out, and before any new command', async () => {
    const site = await heldSite(suite.zk.connectString);
    const op = await site.client();
    const { a, b } = await leaderAndStandby(site);
    const watch = await suite.watch(site);

    const set = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 30 });
    expect(await op.awaitResult(set, 10_000)).toMatchObject({ status: 'applied', agentId: 'gw-a' });
    const appliedAt = Date.now();
    // Let A refresh once, then kill it at a random point of its refresh cycle.
    await sleep(REFRESH_MS + 500 + Math.random() * REFRESH_MS);
    const peerA = registerWrites(site, 1, LIMIT_REGISTER)[0]?.peer;
    const bFrom = b.child.lines.length;
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.child.exited;
    // A command submitted while the dead holder's session still holds the lock: B must re-assert first.
    const next = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 35 });

    const bLeader = await b.child.waitForJson((o) => o.msg === 'site lock acquired: leader', T_MS + 10_000, { from: bFrom });
    expect(await op.awaitResult(next, 10_000)).toMatchObject({ status: 'applied', agentId: 'gw-b' });
    await sleep(2 * REFRESH_MS); // B refreshes 35 % from then on

    const writes = registerWrites(site, 1, LIMIT_REGISTER);
    const lastA = writes.filter((w) => w.peer === peerA).at(-1);
    const fromB = writes.filter((w) => w.peer !== peerA);
    if (lastA === undefined || fromB[0] === undefined) throw new Error(`no writes of A or B: ${JSON.stringify(writes)}`);
    // B's first write is the re-assertion of 30 %, then the new command's 35 %, then refreshes of it.
    expect(fromB.map((w) => w.values[0])).toEqual([300, 350, ...fromB.slice(2).map(() => 350)]);
    expect(fromB.length).toBeGreaterThanOrEqual(3);
    expect(fromB[0].atMs).toBeGreaterThanOrEqual(timeOf(bLeader));
    // The device's timer, restarted by A's last write, had not run out when B's first write landed.
    const gapMs = fromB[0].atMs - lastA.atMs;
    expect(gapMs).toBeLessThan(WINDOW_MS);
    // The device never fell back: no sample read 100 % from the apply to the end.
    expect(watch.since(appliedAt + 200).filter((s) => s.limitRaw !== 300 && s.limitRaw !== 350)).toEqual([]);
    expect(logLines(b.child, 'held setpoint re-asserted')).toHaveLength(1);
    console.log(
      `SIGKILL: B led ${timeOf(bLeader) - killedAt} ms after the kill; its re-assertion landed ${Math.round(fromB[0].atMs - killedAt)} ms after the kill, ` +
        `${Math.round(gapMs)} ms after A's last write (window ${WINDOW_MS} ms)`,
    );
  });
});

describe('every agent killed', () => {
  it('the device falls back by itself within its window (+ one poll), and its output returns to unlimited', async () => {
    const site = await heldSite(suite.zk.connectString);
    const op = await site.client();
    const { a, b } = await leaderAndStandby(site);
    const watch = await suite.watch(site);
    const set = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 30 });
    expect(await op.awaitResult(set, 10_000)).toMatchObject({ status: 'applied' });
    await sleep(REFRESH_MS / 2);
    const heldPowerW = watch.samples.at(-1)?.powerW ?? 0;

    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    await Promise.all([a.child.exited, b.child.exited]);
    const lastWrite = registerWrites(site, 1, LIMIT_REGISTER).at(-1);
    if (lastWrite === undefined) throw new Error('no write of the limit');

    const reverted = await waitFor('the device to fall back to 100 %', () => watch.samples.find((s) => s.atMs > lastWrite.atMs && s.limitRaw === UNLIMITED_RAW), {
      timeoutMs: WINDOW_MS + 5000,
      intervalMs: 50,
    });
    const afterMs = reverted.atMs - lastWrite.atMs;
    // Its timer runs 8 s from the last write; the watcher samples every 100 ms (+100 ms for a slow sample).
    expect(afterMs).toBeGreaterThanOrEqual(WINDOW_MS - 100);
    expect(afterMs).toBeLessThanOrEqual(WINDOW_MS + 300 + 200);
    // Nobody wrote it: the device did.
    expect(registerWrites(site, 1, LIMIT_REGISTER).at(-1)).toEqual(lastWrite);
    // Its output follows: 30 % of the available power before, all of it after.
    expect(heldPowerW).toBeGreaterThan(0);
    expect(reverted.powerW).toBeGreaterThan(3 * heldPowerW);
    console.log(`all agents killed: the device fell back ${Math.round(afterMs)} ms after the last write; ${heldPowerW} W -> ${reverted.powerW} W`);
  });
});

describe('silent partition of the holder (frozen link to ZooKeeper)', () => {
  it('it stops refreshing the moment its gate closes; the successor re-asserts; no write of the old holder after the successor’s first', async () => {
    const site = await heldSite(suite.zk.connectString);
    const op = await site.client();
    proxy = await startTcpProxy({ port: suite.zk.port });
    const { a, b } = await leaderAndStandby(site, { zkConnect: proxy.address });
    const watch = await suite.watch(site);
    const set = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 30 });
    expect(await op.awaitResult(set, 10_000)).toMatchObject({ status: 'applied', agentId: 'gw-a' });
    const appliedAt = Date.now();
    await sleep(REFRESH_MS + Math.random() * REFRESH_MS);

    const aFrom = a.child.lines.length;
    const bFrom = b.child.lines.length;
    proxy.freeze();
    const frozenAt = Date.now();
    const gateClosed = await a.child.waitForJson((o) => o.msg === 'actuation gate closed', T_MS, { from: aFrom });
    const bLeader = await b.child.waitForJson((o) => o.msg === 'site lock acquired: leader', T_MS + 10_000, { from: bFrom });
    await sleep(2 * REFRESH_MS + 500); // B refreshes; A, still running, must not

    const writes = registerWrites(site, 1, LIMIT_REGISTER);
    const peerA = writes[0]?.peer;
    const firstB = writes.findIndex((w) => w.peer !== peerA);
    expect(firstB).toBeGreaterThan(0);
    const lastA = writes.slice(0, firstB).at(-1);
    const bFirst = writes[firstB];
    if (lastA === undefined || bFirst === undefined) throw new Error('unreachable');
    // A wrote nothing once its gate had closed (20 ms for the bytes to reach the simulator) ...
    expect(lastA.atMs).toBeLessThanOrEqual(timeOf(gateClosed) + 20);
    // ... and nothing after B's first write (its re-assertion of 30 %), though it is still running.
    expect(writes.slice(firstB).filter((w) => w.peer === peerA)).toEqual([]);
    expect(bFirst.values).toEqual([300]);
    expect(bFirst.atMs).toBeGreaterThanOrEqual(timeOf(bLeader));
    expect(bFirst.atMs - lastA.atMs).toBeLessThan(WINDOW_MS);
    expect(writes.slice(firstB).length).toBeGreaterThanOrEqual(3); // B keeps refreshing
    // The device never fell back.
    expect(watch.since(appliedAt + 200).filter((s) => s.limitRaw !== 300)).toEqual([]);
    // A is still running all along: it stopped writing because its gate closed, not because it died.
    expect(await Promise.race([a.child.exited.then(() => 'exited'), sleep(10).then(() => 'running')])).toBe('running');
    console.log(
      `partition: A's gate closed ${timeOf(gateClosed) - frozenAt} ms after the freeze, its last write ${Math.round(timeOf(gateClosed) - lastA.atMs)} ms before; ` +
        `B led ${timeOf(bLeader) - frozenAt} ms after the freeze and re-asserted ${Math.round(bFirst.atMs - lastA.atMs)} ms after A's last write`,
    );
  });
});

describe('a hold that ended while nobody led', () => {
  it('is released by the next holder, not re-asserted: no stale setpoint after an outage', async () => {
    const site = await heldSite(suite.zk.connectString);
    const op = await site.client();
    const { a, b } = await leaderAndStandby(site);
    // Held for 1.5 s; A dies at once; B cannot lead before A's session expires (3 s).
    const set = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 30, holdMs: 1500 });
    expect(await op.awaitResult(set, 10_000)).toMatchObject({ status: 'applied', agentId: 'gw-a' });
    const peerA = registerWrites(site, 1, LIMIT_REGISTER)[0]?.peer;
    a.child.kill('SIGKILL');
    const bFrom = b.child.lines.length;
    await b.child.waitForJson((o) => o.msg === 'site lock acquired: leader', T_MS + 10_000, { from: bFrom });
    await waitFor('the node to go', async () => (await op.stat(site.paths.setpoint('inv-1', 'activePowerLimit'))) === null, { timeoutMs: 5000 });
    // Its log line comes through a pipe: wait for it rather than race it.
    await b.child.waitForJson((o) => o.msg === 'held setpoint ended (holdMs): fallback written, node deleted', 5000, { from: bFrom });

    const fromB = registerWrites(site, 1, LIMIT_REGISTER).filter((w) => w.peer !== peerA);
    // B wrote the fallback, never the ended 30 %.
    expect(fromB.map((w) => w.values[0])).toEqual([UNLIMITED_RAW]);
    expect(logLines(b.child, 'held setpoint re-asserted')).toEqual([]);
  });
});
