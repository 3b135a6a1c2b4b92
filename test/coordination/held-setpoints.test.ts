// Held setpoints in coordination (CONTRACT.md section 7; held-setpoints.ts), against a real
// ZooKeeper with digest credentials: the holder writes `setpoints/<device>.<point>` with the site ACL
// (nobody else, issuers included, can create, change or delete one), a successor re-asserts it
// before any command, a release deletes it, and a release of a point that holds nothing is rejected.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Command } from '../../src/coordination/command.js';
import { digestAclId } from '../../src/coordination/credentials.js';
import { SiteCoordinator } from '../../src/coordination/site-coordinator.js';
import { systemClock } from '../../src/clock.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { Admin, pathsOf, RecordingHandler, siteConfig, testLogger, uniqueSite, waitFor, writeCredentials, zkCode, type WriteRecord } from './harness.js';

const T_MS = 2000;
let zk: ZkServer;
let dir: string;
const closers: Array<() => Promise<void>> = [];

/** The test handler, with inv-1.activePowerLimit held (it has a fallback) and its release accepted. */
class HoldingHandler extends RecordingHandler {
  holds(cmd: Pick<Command, 'device' | 'point'>): boolean {
    return cmd.device === 'inv-1' && cmd.point === 'activePowerLimit';
  }

  override check(cmd: Command): string | null {
    if (cmd.value === null) return this.holds(cmd) ? null : `value: ${cmd.device}.${cmd.point} has no fallback`;
    return super.check(cmd);
  }
}

function credentials(name: string, line: string): string {
  return writeCredentials(dir, name, line);
}

function holder(config: ReturnType<typeof siteConfig>, writes: WriteRecord[]): { coordinator: SiteCoordinator; handler: HoldingHandler } {
  const handler = new HoldingHandler(config.agentId, writes);
  const coordinator = new SiteCoordinator(config, { logger: testLogger(config.agentId), handler, version: '0.0.0-test', clock: systemClock });
  coordinator.start();
  closers.push(() => coordinator.close());
  return { coordinator, handler };
}

beforeAll(async () => {
  zk = await startZooKeeper({ tickTimeMs: 200 });
  dir = makeTempDir('coord-held');
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await zk?.stop();
});

describe('held setpoints in ZooKeeper', () => {
  it('are written by the holder only, with the site ACL; re-asserted by the successor before any command; released by null', async () => {
    const agentCreds = credentials('agent.credentials', 'gridkeeper:agent-secret');
    const emsCreds = credentials('ems.credentials', 'ems:ems-secret');
    const base = { site: uniqueSite('held'), connect: zk.connectString, sessionTimeoutMs: T_MS, credentialsFile: agentCreds };
    const issuers = [`digest:${digestAclId({ user: 'ems', password: 'ems-secret' })}`];
    const configA = siteConfig({ ...base, agentId: 'gw-a', commandIssuers: issuers });
    const paths = pathsOf(configA);
    const writes: WriteRecord[] = [];
    const a = holder(configA, writes);
    await waitFor('gw-a to lead', () => a.coordinator.token ?? undefined, { timeoutMs: 10_000 });
    const tokenA = a.coordinator.token;

    const ems = await Admin.open(zk.connectString, { credentialsFile: emsCreds });
    const stranger = await Admin.open(zk.connectString);
    closers.push(() => ems.close(), () => stranger.close());
    const op = ems.site(paths);

    // A release of a point that holds nothing: rejected, nothing written.
    const early = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: null });
    expect(await op.awaitResult(early, 10_000)).toMatchObject({ status: 'rejected', error: 'value: null releases a held setpoint, and inv-1.activePowerLimit holds none: nothing to release' });

    const set = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 33, issuedBy: 'ems', holdMs: 3_600_000 });
    expect(await op.awaitResult(set, 10_000)).toMatchObject({ status: 'applied', token: tokenA });
    const node = paths.setpoint('inv-1', 'activePowerLimit');
    const doc = await op.readJson(node);
    expect(doc).toMatchObject({ device: 'inv-1', point: 'activePowerLimit', value: 33, command: set, token: tokenA, agentId: 'gw-a', issuedBy: 'ems' });
    expect(Date.parse(String(doc?.holdUntil)) - Date.parse(String(doc?.setAt))).toBeGreaterThan(3_600_000 - 5000);
    // A one-shot point (no fallback) leaves no setpoint.
    const once = await op.submit({ device: 'bms-1', point: 'enabled', value: true });
    expect(await op.awaitResult(once, 10_000)).toMatchObject({ status: 'applied' });
    expect(await op.children(paths.setpoints)).toEqual(['inv-1.activePowerLimit']);

    // Nobody but the agents may create, change or delete a setpoint: not a stranger, not an issuer.
    const data = Buffer.from(JSON.stringify({ ...doc, value: 0 }));
    for (const s of [stranger.session, ems.session]) {
      expect(await zkCode(s.set(node, data))).toBe('NOAUTH');
      expect(await zkCode(s.delete(node))).toBe('NOAUTH');
      expect(await zkCode(s.setAcl(node, [{ scheme: 'world', id: 'anyone', perms: 31 }]))).toBe('NOAUTH');
      expect(await zkCode(s.create(paths.setpoint('inv-1', 'other'), data, 'persistent'))).toBe('NOAUTH');
    }
    expect((await stranger.session.getAcl(node)).map((e) => e.id)).toEqual(expect.arrayContaining(['gridkeeper:x', 'anyone']));

    // gw-b takes over (gw-a stops): it applies the held 33 again before the command waiting for it.
    const b = holder(siteConfig({ ...base, agentId: 'gw-b', commandIssuers: issuers }), writes);
    await waitFor('gw-b queued', async () => (await op.lockQueue()).length === 2, { timeoutMs: 10_000 });
    await a.coordinator.close();
    const next = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 44 });
    expect(await op.awaitResult(next, 10_000)).toMatchObject({ status: 'applied', agentId: 'gw-b' });
    expect(b.handler.applyCalls.map((c) => c.value)).toEqual([33, 44]);
    expect(await op.readJson(node)).toMatchObject({ value: 44, command: next, agentId: 'gw-b', holdUntil: null });

    // Released: the fallback applied (value null reaches the handler), the node gone.
    const release = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: null });
    expect(await op.awaitResult(release, 10_000)).toMatchObject({ status: 'applied' });
    expect(b.handler.applyCalls.at(-1)).toMatchObject({ value: null });
    expect(await op.stat(node)).toBeNull();
  });
});
