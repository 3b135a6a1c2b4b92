// Agent id uniqueness (issue: "A restart with the same agent id succeeds while the old session's
// node still lingers (wait for it to go, up to the session timeout); a second live agent with the
// same id fails with a clear message.")
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateAgentError } from '../../src/coordination/errors.js';
import { killAllChildren, spawnChild } from '../../tools/devtools/processes.js';
import { buildChildScript } from './child-build.js';
import { pathsOf, siteConfig, startAgent, uniqueSite, waitForLeader, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterAll');
let script: string;

beforeAll(() => {
  script = buildChildScript('test/coordination/fixtures/agent-child.ts');
});

afterAll(() => killAllChildren()); // before the fixture closes agents and the server

describe('one live agent per agent id', () => {
  it('a second live agent with the same id is refused with DuplicateAgentError; the first is unharmed', async () => {
    const config = siteConfig({ site: uniqueSite('dup'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const paths = pathsOf(config);
    const op = fx.admin.site(paths);
    const first = startAgent(config, []);
    fx.agents.push(first);
    const token = await waitForLeader(first, 10_000);
    const owner = first.coordinator.sessionId;

    const second = startAgent(config, []);
    fx.agents.push(second);
    const startedAtMs = performance.now();
    const err = await second.coordinator.ready().then(
      () => null,
      (e: unknown) => e,
    );
    const waitedMs = performance.now() - startedAtMs;
    expect(err).toBeInstanceOf(DuplicateAgentError);
    expect(err).toMatchObject({ code: 'DUPLICATE_AGENT', retryable: false, path: paths.agent('gw-a'), ownerSessionId: owner });
    expect((err as Error).message).toMatch(/A second live agent with this id exists/);
    expect((err as Error).message).toMatch(/host /); // names where the other one runs
    // It waited about the session timeout (+1 s) for the node to vanish before giving up.
    expect(waitedMs).toBeGreaterThan(T_MS);
    expect(waitedMs).toBeLessThan(T_MS + 5000);
    expect(second.events.some((e) => e.name === 'error')).toBe(true);
    // The duplicate never joined the lock queue; the first is still leader, its node still its own.
    expect(second.coordinator.lock.nodeName).toBeNull();
    expect(await op.children(paths.lock)).toHaveLength(1);
    expect(first.coordinator.token).toBe(token);
    expect((await op.stat(paths.agent('gw-a')))?.ephemeralOwner).toBe(owner);
    await second.close();
  });

  it('a restart with the same id waits out the node its killed predecessor left, then takes over', async () => {
    const config = siteConfig({ site: uniqueSite('restart'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const paths = pathsOf(config);
    const child = spawnChild(process.execPath, [script], {
      label: 'coordination agent gw-a (first life)',
      env: { COORD_CHILD_CONFIG: JSON.stringify(config) },
    });
    await child.waitForJson((o) => o.event === 'leader', 20_000);
    const op = fx.admin.site(paths);
    const oldOwner = (await op.stat(paths.agent('gw-a')))?.ephemeralOwner;
    expect(oldOwner).toMatch(/^0x/);
    child.kill('SIGKILL');
    await child.exited;
    const killedAtMs = performance.now();
    // The node lingers: its session lives on at the server until it times out.
    expect((await op.stat(paths.agent('gw-a')))?.ephemeralOwner).toBe(oldOwner);

    const restarted = startAgent(config, []);
    fx.agents.push(restarted);
    await restarted.coordinator.ready();
    const readyAfterMs = performance.now() - killedAtMs;
    expect(restarted.events.some((e) => e.name === 'error')).toBe(false);
    expect(readyAfterMs).toBeLessThan(T_MS + 2000);
    expect((await op.stat(paths.agent('gw-a')))?.ephemeralOwner).toBe(restarted.coordinator.sessionId);
    await waitForLeader(restarted, 5000);
  });
});
