// Done when: "Holder killed with SIGKILL: the standby applies the pending commands within session
// timeout plus 2 s; every command has exactly one result."
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllChildren, spawnChild, type ChildHandle } from '../../tools/devtools/processes.js';
import { buildChildScript } from './child-build.js';
import { pathsOf, siteConfig, startAgent, uniqueSite, waitFor, type WriteRecord, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterAll');
let script: string;

beforeAll(() => {
  script = buildChildScript('test/coordination/fixtures/agent-child.ts');
});

afterAll(() => killAllChildren()); // before the fixture closes agents and the server

function childWrites(child: ChildHandle): { value: number; atMs: number }[] {
  return child.lines
    .map((l) => {
      try {
        return JSON.parse(l) as { event: string; value: number; atMs: number };
      } catch {
        return null;
      }
    })
    .filter((o): o is { event: string; value: number; atMs: number } => o?.event === 'write');
}

describe('holder killed with SIGKILL', () => {
  it('the standby applies the pending commands within the session timeout + 2 s, one result each', async () => {
    const site = uniqueSite('kill');
    const configA = siteConfig({ site, agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const configB = siteConfig({ site, agentId: 'gw-b', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const paths = pathsOf(configA);
    const op = fx.admin.site(paths);

    // The holder runs in its own process; each write takes it 150 ms, so commands queue up.
    const child = spawnChild(process.execPath, [script], {
      label: 'coordination agent gw-a',
      env: { COORD_CHILD_CONFIG: JSON.stringify(configA), COORD_CHILD_APPLY_DELAY_MS: '150' },
    });
    const leaderLine = await child.waitForJson((o) => o.event === 'leader', 20_000);
    const tokenA = String(leaderLine.token);

    const writesB: WriteRecord[] = [];
    const standby = startAgent(configB, writesB);
    fx.agents.push(standby);
    await standby.coordinator.ready();
    expect(standby.coordinator.isLeader).toBe(false);

    const names: string[] = [];
    for (let v = 1; v <= 6; v++) names.push(await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: v }));
    // Let the holder get through a few of them, then kill it mid-queue.
    await waitFor('the holder to write at least two commands', () => childWrites(child).length >= 2, { timeoutMs: 10_000 });
    child.kill('SIGKILL');
    const killedAtMs = performance.now();
    await child.exited;
    for (let v = 7; v <= 9; v++) names.push(await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: v }));

    const results = await op.awaitResults(names, T_MS + 10_000);
    const doneAfterMs = performance.now() - killedAtMs;
    // The standby can only take over once the dead holder's session expires (T after it was last
    // heard, rounded up to ZooKeeper's 200 ms tick); then it works through the queue.
    expect(doneAfterMs).toBeLessThan(T_MS + 2000);

    // Exactly one result per command (a znode per name), all applied, none left pending.
    expect([...results.keys()].sort()).toEqual([...names].sort());
    for (const r of results.values()) expect(r.status).toBe('applied');
    expect(await op.pendingCommands()).toEqual([]);
    const resultNames = (await op.children(paths.results)).filter((n) => names.includes(n));
    expect(resultNames.sort()).toEqual([...names].sort());

    // Who applied what: the holder's results carry its token, the standby's a larger one, and the
    // standby's write log holds every value whose result it wrote.
    const tokenB = standby.coordinator.token;
    expect(tokenB).not.toBeNull();
    expect(BigInt(tokenB ?? '0')).toBeGreaterThan(BigInt(tokenA));
    const byB = [...results.values()].filter((r) => r.agentId === 'gw-b');
    expect(byB.length).toBeGreaterThanOrEqual(3); // at least the three submitted after the kill
    for (const r of byB) {
      expect(r.token).toBe(tokenB);
      expect(writesB.map((w) => w.value)).toContain((r.command as { value: number }).value);
    }
    for (const r of [...results.values()].filter((x) => x.agentId === 'gw-a')) expect(r.token).toBe(tokenA);
    // The holder's node and lock node vanished with its session.
    expect(await op.children(paths.agents)).toEqual(['gw-b']);
  });
});
