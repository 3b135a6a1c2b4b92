// Sites on one ensemble, each with its own credentials (CONTRACT.md section 10): an agent of one
// site, on its own authenticated session, can read another site (status, dashboards) but cannot
// create, change or delete anything under it, nor delete the other site's node or take the shared
// parents away from the sites that come after it.
import { describe, expect, it } from 'vitest';
import { COMMAND_PREFIX, LOCK_PREFIX, type SitePaths } from '../../src/coordination/paths.js';
import type { ZkSession } from '../../src/coordination/session.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { pathsOf, siteConfig, startAgent, uniqueSite, waitForLeader, useZooKeeper, writeCredentials, zkCode, type TestAgent } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterAll');

function credentialsFile(dir: string, line: string): string {
  return writeCredentials(dir, `${line.split(':')[0] ?? 'x'}.credentials`, line);
}

/** A site with one agent holding its lock, and a command result, under its own credentials. */
async function startSite(dir: string, name: string, credentials: string): Promise<{ agent: TestAgent; paths: SitePaths; result: string }> {
  const config = siteConfig({ site: uniqueSite(name), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS, credentialsFile: credentialsFile(dir, credentials) });
  const agent = startAgent(config, []);
  fx.agents.push(agent);
  await waitForLeader(agent, 10_000);
  const paths = pathsOf(config);
  // A command through the agent's own session (its credentials may create commands), for a result to attack.
  const mine = new SiteClient(agent.coordinator.session, paths);
  const result = await mine.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42 });
  await mine.awaitResults([result], 10_000);
  return { agent, paths, result };
}

/** Everything `session` may try against the site at `paths`: each must be refused with NOAUTH. */
async function attempts(session: ZkSession, paths: SitePaths, lockNode: string, result: string): Promise<Record<string, string>> {
  const data = Buffer.from('{}');
  const open = [{ scheme: 'world', id: 'anyone', perms: 31 }];
  const out: Record<string, string> = {};
  const creates: [string, Parameters<ZkSession['create']>[2]][] = [
    [`${paths.site}/extra`, 'persistent'],
    [paths.agent('intruder'), 'ephemeral'],
    [paths.reading('intruder'), 'ephemeral'],
    [paths.lockNode(`intruder-${LOCK_PREFIX}`), 'ephemeral_sequential'],
    [paths.newCommand(), 'persistent_sequential'],
    [paths.result(`${COMMAND_PREFIX}0000009999`), 'persistent'],
    [paths.setpoint('inv-1', 'activePowerLimit'), 'persistent'],
    [`${paths.conflicts}/intruder`, 'ephemeral'],
  ];
  for (const [p, mode] of creates) out[`create ${p}`] = await zkCode(session.create(p, data, mode));
  const existing = [paths.site, paths.agent('gw-a'), paths.reading('gw-a'), paths.lockNode(lockNode), paths.commands, paths.results, paths.result(result), paths.setpoints];
  for (const p of existing) {
    out[`set ${p}`] = await zkCode(session.set(p, data));
    out[`setAcl ${p}`] = await zkCode(session.setAcl(p, open));
  }
  for (const p of [paths.agent('gw-a'), paths.reading('gw-a'), paths.lockNode(lockNode), paths.result(result), paths.results, paths.commands, paths.site]) {
    out[`delete ${p}`] = await zkCode(session.delete(p));
  }
  return out;
}

describe('sites on one ensemble with their own credentials', () => {
  it("an agent of one site gets NOAUTH for every create, change and delete under another site", async () => {
    const dir = makeTempDir('site-isolation');
    const north = await startSite(dir, 'north', 'north-agents:north-secret');
    const south = await startSite(dir, 'south', 'south-agents:south-secret');
    for (const [attacker, victim] of [
      [north, south],
      [south, north],
    ] as const) {
      const session = attacker.agent.coordinator.session;
      // It may read the other site, as anyone may.
      expect(await zkCode(session.getChildren(victim.paths.site))).toBe('OK');
      expect(await zkCode(session.get(victim.paths.reading('gw-a')))).toBe('OK');
      const tried = await attempts(session, victim.paths, victim.agent.coordinator.lock.nodeName ?? '', victim.result);
      expect(Object.keys(tried).length).toBeGreaterThan(20);
      expect(Object.entries(tried).filter(([, c]) => c !== 'NOAUTH')).toEqual([]);
      // The shared parents (made by whichever site came first) belong to no site.
      for (const parent of [victim.paths.root, victim.paths.sites]) {
        expect(await zkCode(session.setAcl(parent, [{ scheme: 'world', id: 'anyone', perms: 1 }])), parent).toBe('NOAUTH');
        expect(await zkCode(session.set(parent, Buffer.from('x'))), parent).toBe('NOAUTH');
      }
    }
    // Both sites still work: each holder applies its own site's commands.
    for (const site of [north, south]) expect((await fx.admin.site(site.paths).result(site.result))?.status).toBe('applied');
    expect([...north.agent.events, ...south.agent.events].filter((e) => e.name === 'error')).toEqual([]);
  });
});
