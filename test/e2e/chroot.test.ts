// `zookeeper.connect` with a chroot suffix (CONTRACT.md section 8), with real processes and a real
// ZooKeeper server: an agent (`gridkeeper run`) creates the chroot node when it is missing and its
// parent exists, keeps its whole tree under it, leads; `status` and `command` take the same connect
// string; a chroot that is missing is a named error (the tools: exit 1; an agent that cannot create
// it: one error line, then it keeps trying and carries on once the node exists).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSession } from '../../src/coordination/connect.js';
import type { ZkSession } from '../../src/coordination/session.js';
import { killAllChildren } from '../../tools/devtools/processes.js';
import { waitFor } from '../../tools/devtools/wait.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { closeSiteClients, E2eSite, gridkeeper, openSiteClient, ROOT } from './harness.js';

let zk: ZkServer;
/** A session on the ensemble's real root: what the chrooted clients cannot see above their chroot. */
let admin: ZkSession;
const NO_ZK_ENV = { GRIDKEEPER_ZOOKEEPER: undefined };

beforeAll(async () => {
  zk = await startZooKeeper({ tickTimeMs: 200 });
  admin = await connectSession({ connect: zk.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 15_000 }, { logger: pino({ level: 'silent' }) });
});

afterAll(async () => {
  await killAllChildren();
  await closeSiteClients();
  await admin?.close();
  await zk?.stop();
});

describe('zookeeper.connect with a chroot', () => {
  it('the agent creates a missing chroot and works under it; status and command take the same connect string', async () => {
    const chrooted = `${zk.connectString}/energy`;
    expect(await admin.exists('/energy')).toBeNull();
    const site = await E2eSite.start({ zkConnect: chrooted });
    const agent = await site.startAgent('gw-a');
    const leader = await agent.leader();

    // Everything is under /energy on the ensemble: the chroot is the agent's `/`.
    expect(await admin.exists('/energy')).not.toBeNull();
    expect(await admin.exists(`/energy${ROOT}/sites/${site.site}/agents/gw-a`)).not.toBeNull();
    expect(await admin.exists(`${ROOT}/sites/${site.site}`)).toBeNull();

    const status = await gridkeeper(['status', '--zookeeper', chrooted, '--site', site.site], { env: NO_ZK_ENV });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^lock held by gw-a since .*, token ${String(leader.token)}$`, 'm'));
    const command = await gridkeeper(
      ['command', '--zookeeper', chrooted, '--site', site.site, '--device', 'inv-1', '--point', 'activePowerLimit', '--value', '42'],
      { env: NO_ZK_ENV },
    );
    expect(command.code, command.stderr).toBe(0);
    expect(command.stdout).toMatch(/applied: inv-1\.activePowerLimit = 42 by gw-a/);
    expect(site.limitWrites().map((w) => w.percent)).toEqual([42]);
    // The operator's client sees the same tree through the chroot.
    const op = await openSiteClient(chrooted, site.site);
    expect(await op.agents()).toEqual(['gw-a']);
  });

  it('status and command name a chroot that does not exist, exit 1; they create nothing', async () => {
    const missing = `${zk.connectString}/no-such-chroot`;
    for (const args of [
      ['status', '--site', 'north'],
      ['command', '--site', 'north', '--device', 'd', '--point', 'p', '--value', '1'],
    ]) {
      const run = await gridkeeper([...args, '--zookeeper', missing], { env: NO_ZK_ENV });
      expect(run.code, run.stdout).toBe(1);
      expect(run.stderr).toMatch(/ZooKeeper has no node \/no-such-chroot, the chroot of the connect string .*\/no-such-chroot: no agent has used it yet, or it is misspelt/);
    }
    expect(await admin.exists('/no-such-chroot')).toBeNull();
  });

  it('an agent whose chroot has no parent: one error line naming it, keeps polling, carries on once it exists', async () => {
    const chrooted = `${zk.connectString}/tenant/energy`;
    const site = await E2eSite.start({ zkConnect: chrooted });
    const agent = await site.startAgent('gw-a');
    const line = await agent.child.waitForJson((o) => o.level === 50, 20_000);
    expect(line.msg).toBe('cannot create the site tree in ZooKeeper; retrying every 5 s');
    expect(line.err).toMatchObject({ type: 'ChrootMissingError', code: 'CHROOT_MISSING', chroot: '/tenant/energy' });
    expect(String((line.err as { message: string }).message)).toMatch(/ZooKeeper has no node \/tenant\/energy, .*its parent is missing too/);
    expect(JSON.stringify(line)).not.toMatch(/"stack"/);
    await waitFor('inv-1 polled', async () => ((await agent.health()).body.devices as Record<string, string>)['inv-1'] === 'ok', { timeoutMs: 10_000 });

    await admin.create('/tenant', Buffer.alloc(0), 'persistent');
    await agent.leader(15_000); // the next try (within 5 s) creates /tenant/energy and goes on
    expect(await admin.exists(`/tenant/energy${ROOT}/sites/${site.site}/agents/gw-a`)).not.toBeNull();
    expect(agent.child.lines.filter((l) => l.includes('"level":50'))).toHaveLength(1);
  });
});
