// The ZooKeeper test helper against real servers: a standalone server serves clients with the
// session timeout they ask for; an ensemble elects a leader, survives losing it, and takes the old
// leader back as a follower.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import ZooKeeper from 'zookeeper';
import { killTracked } from '../../tools/devtools/child-registry.js';
import { waitFor } from '../../tools/devtools/wait.js';
import { closeAllZk, closeZk, connectZk, nodeExists } from './zk-test-client.js';
import { ZkStartError, fourLetter, startEnsemble, startZooKeeper, type ZkEnsemble, type ZkServer } from '../../tools/devtools/zookeeper.js';

async function connect(connectString: string, sessionTimeoutMs: number): Promise<ZooKeeper> {
  return connectZk(connectString, { sessionTimeoutMs });
}

afterAll(() => {
  closeAllZk();
  killTracked();
});

describe('standalone ZooKeeper', () => {
  let zk: ZkServer;
  afterAll(async () => zk?.stop());

  it('starts, answers four-letter words and grants the requested session timeout', async () => {
    const t0 = performance.now();
    zk = await startZooKeeper();
    console.log(`standalone ZooKeeper ready in ${Math.round(performance.now() - t0)} ms`);

    expect(await fourLetter(zk.port, 'ruok')).toBe('imok');
    expect(await zk.mode()).toBe('standalone');
    const conf = await zk.fourLetter('conf');
    expect(conf).toMatch(/^tickTime=200$/m);
    expect(conf).toMatch(/^minSessionTimeout=400$/m);
    expect(conf).toMatch(/^maxSessionTimeout=30000$/m);

    const client = await connect(zk.connectString, 2000);
    expect(client.timeout).toBe(2000); // negotiated: inside [2 ticks, maxSessionTimeout]
    await client.create('/hello', 'world', ZooKeeper.constants.ZOO_PERSISTENT);
    expect(await nodeExists(client, '/hello')).toBe(true);
    closeZk(client);
  });

  it('keeps its data over stop() and start()', async () => {
    await zk.stop();
    expect(zk.isRunning()).toBe(false);
    await expect(fourLetter(zk.port, 'ruok')).rejects.toThrow(/ECONNREFUSED/);
    await zk.start();
    const client = await connect(zk.connectString, 4000);
    expect(await nodeExists(client, '/hello')).toBe(true);
  });

  it('kill() ends the process at once', async () => {
    const pid = zk.pid;
    expect(pid).not.toBeNull();
    await zk.kill();
    expect(zk.isRunning()).toBe(false);
    expect(() => process.kill(pid ?? 0, 0)).toThrow(); // the pid is gone
  });
});

describe('ZooKeeper options', () => {
  let zk: ZkServer;
  afterAll(async () => zk?.stop());

  it('takes the tick and the session timeout bounds from the options', async () => {
    zk = await startZooKeeper({ tickTimeMs: 100, maxSessionTimeoutMs: 1000 });
    const conf = await zk.fourLetter('conf');
    expect(conf).toMatch(/^tickTime=100$/m);
    expect(conf).toMatch(/^minSessionTimeout=200$/m); // 2 ticks
    const client = await connect(zk.connectString, 4000);
    expect(client.timeout).toBe(1000); // the server caps what the client asks for
  });

  it('with ZOOKEEPER_CONNECT set, hands out that server instead of starting one', async () => {
    const previous = process.env.ZOOKEEPER_CONNECT;
    process.env.ZOOKEEPER_CONNECT = zk.connectString;
    try {
      const external = await startZooKeeper();
      expect(external.connectString).toBe(zk.connectString);
      expect(external.port).toBe(zk.port);
      expect(external.dir).toBeNull();
      expect(await external.mode()).toBe('standalone');
      await external.stop(); // a no-op: the server is someone else's
      expect(await fourLetter(zk.port, 'ruok')).toBe('imok');
      await expect(external.kill()).rejects.toThrow(/external ZOOKEEPER_CONNECT/);
    } finally {
      if (previous === undefined) delete process.env.ZOOKEEPER_CONNECT;
      else process.env.ZOOKEEPER_CONNECT = previous;
    }
  });

  it('a server that cannot start fails with its log path and last lines', async () => {
    // ZooKeeper refuses a minimum session timeout above the maximum and exits at once.
    const err = await startZooKeeper({ minSessionTimeoutMs: 5000, maxSessionTimeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZkStartError);
    if (!(err instanceof ZkStartError)) return;
    expect(err.portInUse).toBe(false);
    expect(fs.existsSync(err.logFile)).toBe(true);
    expect(err.message).toContain(err.logFile);
    expect(err.message).toMatch(/minSessionTimeout/);
    fs.rmSync(path.dirname(err.logFile), { recursive: true, force: true }); // kept for reading; not needed here
  });
});

describe('ZooKeeper ensemble', () => {
  let ens: ZkEnsemble;
  afterAll(async () => ens?.close());

  it('elects a leader, survives losing it, and takes it back as a follower', async () => {
    const t0 = performance.now();
    ens = await startEnsemble(3);
    console.log(`3-server ZooKeeper ensemble ready in ${Math.round(performance.now() - t0)} ms`);
    expect(ens.servers).toHaveLength(3);
    expect(ens.connectString.split(',')).toHaveLength(3);
    const modes = await Promise.all(ens.servers.map((s) => s.mode()));
    expect(modes.filter((m) => m === 'leader')).toHaveLength(1);
    expect(modes.filter((m) => m === 'follower')).toHaveLength(2);

    // A session across the ensemble, with an ephemeral node that must outlive the leader's death.
    const client = await connect(ens.connectString, 4000);
    expect(client.timeout).toBe(4000);
    await client.create('/alive', '', ZooKeeper.constants.ZOO_EPHEMERAL);

    const oldLeader = await ens.leader();
    const t1 = performance.now();
    await oldLeader.kill();
    const newLeader = await ens.leader({ timeoutMs: 20_000 }); // generous: 2 shared cores
    console.log(`new leader elected ${Math.round(performance.now() - t1)} ms after killing the old one`);
    expect(newLeader.id).not.toBe(oldLeader.id);
    // The client reconnects to a surviving server within its session: the node is still there.
    // (pathExists() answers false on connection loss too, so wait for a real answer from exists().)
    const stat = await waitFor('exists(/alive) after failover', () => client.exists('/alive', false), { timeoutMs: 10_000 });
    expect(stat).toBeTruthy();

    await oldLeader.start();
    const leader = await ens.waitForQuorum();
    expect(leader.id).toBe(newLeader.id);
    expect(await oldLeader.mode()).toBe('follower');
  });
});
