// EphemeralNode: coalesced writes (at most one per publish interval, none for unchanged bytes),
// re-created when deleted behind our back, data too large for a znode refused.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { EphemeralNode, ZNODE_MAX_BYTES } from '../../src/coordination/ephemeral-node.js';
import { ZnodeTooLargeError } from '../../src/coordination/errors.js';
import { ServerClock } from '../../src/coordination/server-clock.js';
import { ZkSession } from '../../src/coordination/session.js';
import { ensurePath } from '../../src/coordination/tree.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { Admin, sleep, testLogger, waitFor } from './harness.js';

let zk: ZkServer;
let admin: Admin;
const closers: (() => Promise<void>)[] = [];
let n = 0;

beforeAll(async () => {
  zk = await startZooKeeper({ tickTimeMs: 200 });
  // Raw session use throughout: /eph-test is no site, so there is nothing for an operator client here.
  admin = await Admin.open(zk.connectString);
  await ensurePath(admin.session, '/eph-test', null);
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

afterAll(async () => {
  await admin?.close();
  await zk?.stop();
});

async function node(minIntervalMs: number, initial: string): Promise<{ node: EphemeralNode; session: ZkSession; set: (s: string) => void; path: string; clock: ServerClock }> {
  const session = new ZkSession({ connect: zk.connectString, sessionTimeoutMs: 2000, nativeLogLevel: 0 }, { logger: testLogger('eph'), clock: systemClock });
  let data = Buffer.from(initial);
  const path = `/eph-test/node-${++n}`;
  const clock = new ServerClock({ clock: systemClock });
  const eph = new EphemeralNode({ path, render: () => data, minIntervalMs, acl: null }, { session, logger: testLogger('eph'), clock: systemClock, serverClock: clock });
  closers.push(() => session.close());
  closers.push(() => eph.close());
  session.start();
  eph.start();
  await waitFor('the node', () => eph.present, { timeoutMs: 5000 });
  return {
    node: eph,
    session,
    path,
    clock,
    set: (s: string) => {
      data = Buffer.from(s);
      eph.changed();
    },
  };
}

describe('EphemeralNode', () => {
  it('writes at most once per interval, the latest data, and not at all when the bytes did not change', async () => {
    const { set, path, clock } = await node(300, 'v0');
    // 40 changes over ~1 s: at most one write per 300 ms, so 4 or 5 writes, ending with the last value.
    for (let i = 1; i <= 40; i++) {
      set(`v${i}`);
      await sleep(25);
    }
    await waitFor('the last value', async () => (await admin.session.get(path)).data.toString() === 'v40', { timeoutMs: 2000 });
    const writes = (await admin.session.exists(path))?.version ?? -1;
    expect(writes).toBeGreaterThanOrEqual(2);
    expect(writes).toBeLessThanOrEqual(5); // ceil(1000 ms / 300 ms) + 1: generous for timer jitter
    // The same bytes again: nothing is written.
    await sleep(400);
    set('v40');
    set('v40');
    await sleep(700);
    expect((await admin.session.exists(path))?.version).toBe(writes);
    // Every write taught the server clock: its estimate is close to this host's (same machine).
    expect(Math.abs((clock.nowMs() ?? 0) - Date.now())).toBeLessThan(1000);
  });

  it('is re-created at once when deleted behind its back', async () => {
    const { session, path, node: eph } = await node(100, 'mine');
    const ctime = (await admin.session.exists(path))?.czxid;
    await admin.session.delete(path);
    await waitFor('re-created', async () => (await admin.session.exists(path))?.ephemeralOwner === session.sessionId, {
      timeoutMs: 1000,
      intervalMs: 10,
    });
    expect((await admin.session.exists(path))?.czxid).not.toBe(ctime);
    expect((await admin.session.get(path)).data.toString()).toBe('mine');
    expect(eph.present).toBe(true);
  });

  it('refuses data larger than a znode may hold, with a typed error, and keeps the old data', async () => {
    const { node: eph, set, path } = await node(50, 'small');
    const errors: Error[] = [];
    eph.on('error', (err) => errors.push(err));
    set('x'.repeat(ZNODE_MAX_BYTES + 1));
    await waitFor('the error', () => errors.length > 0, { timeoutMs: 2000 });
    expect(errors[0]).toBeInstanceOf(ZnodeTooLargeError);
    expect(errors[0]).toMatchObject({ code: 'ZNODE_TOO_LARGE', path, bytes: ZNODE_MAX_BYTES + 1 });
    expect((await admin.session.get(path)).data.toString()).toBe('small');
  });
});
