// Agent id uniqueness (issue: "A restart with the same agent id succeeds while the old session's
// node still lingers (wait for it to go, up to the session timeout); a second live agent with the
// same id names the other (host, pid), stays out (no readings, no lock) and takes over when it goes.")
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuplicateAgentError } from '../../src/coordination/errors.js';
import { killAllChildren, spawnChild } from '../../tools/devtools/processes.js';
import { buildChildScript } from './child-build.js';
import { pathsOf, siteConfig, sleep, startAgent, uniqueSite, waitFor, waitForLeader, useZooKeeper } from './harness.js';

const T_MS = 2000;
const fx = useZooKeeper('afterAll');
let script: string;

beforeAll(() => {
  script = buildChildScript('test/coordination/fixtures/agent-child.ts');
});

afterAll(() => killAllChildren()); // before the fixture closes agents and the server

describe('one live agent per agent id', () => {
  // CONTRACT.md section 8 changed this from "refused" (exit 1, a restart loop under systemd) to
  // "reported, and kept out": the later agent names the other and waits, and takes over when it goes.
  it('a second live agent with the same id names the other, never publishes or queues, and takes over when it goes', async () => {
    const config = siteConfig({ site: uniqueSite('dup'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS });
    const paths = pathsOf(config);
    const op = fx.admin.site(paths);
    const first = startAgent(config, [], { identity: { host: 'gw-first', pid: 1111 } });
    fx.agents.push(first);
    const token = await waitForLeader(first, 10_000);
    const owner = first.coordinator.sessionId;

    const lines: Record<string, unknown>[] = [];
    const second = startAgent(config, [], { identity: { host: 'gw-second', pid: 2222 }, logSink: { lines } });
    fx.agents.push(second);
    let ready = false;
    void second.coordinator.ready().then(() => (ready = true));
    const startedAtMs = performance.now();
    const err = await waitFor('the duplicate report', () => second.events.find((e) => e.name === 'error')?.detail, { timeoutMs: T_MS + 10_000 });
    const waitedMs = performance.now() - startedAtMs;
    expect(err).toBeInstanceOf(DuplicateAgentError);
    expect(err).toMatchObject({
      code: 'DUPLICATE_AGENT',
      retryable: false,
      path: paths.agent('gw-a'),
      ownerSessionId: owner,
      holder: { host: 'gw-first', pid: 1111 },
    });
    expect((err as Error).message).toMatch(/A second live agent with this id exists/);
    expect((err as Error).message).toMatch(/host gw-first, pid 1111/); // names where the other one runs
    // It waited about the session timeout (+1 s): the node of its own previous life would be gone.
    expect(waitedMs).toBeGreaterThan(T_MS);
    expect(waitedMs).toBeLessThan(T_MS + 5000);
    // One error line naming both, without a stack.
    const errors = lines.filter((l) => (l.level as number) >= 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ duplicateOf: { host: 'gw-first', pid: 1111, sessionId: owner }, self: { host: 'gw-second', pid: 2222 } });
    expect(JSON.stringify(errors[0])).not.toMatch(/stack/);
    expect(second.coordinator.duplicateOf).toMatchObject({ host: 'gw-first', pid: 1111, sessionId: owner });
    // Its trace for `status`: conflicts/<id>@<host>:<pid>, ephemeral, its own session's.
    const conflictPath = paths.conflict('gw-a', 'gw-second', 2222);
    await waitFor('the conflict node', () => op.stat(conflictPath).then((s) => s?.ephemeralOwner === second.coordinator.sessionId), { timeoutMs: 5000 });
    expect(await op.readJson(conflictPath)).toMatchObject({ agentId: 'gw-a', host: 'gw-second', pid: 2222, conflictsWith: { host: 'gw-first', pid: 1111, sessionId: owner } });
    const view = await op.view();
    expect(view.conflicts).toEqual([{ node: 'gw-a@gw-second:2222', document: expect.objectContaining({ host: 'gw-second' }) }]);

    // The duplicate never joined the lock queue, never published; the first is still leader, its node still its own.
    await sleep(1000);
    expect(ready).toBe(false);
    expect(second.coordinator.lock.nodeName).toBeNull();
    expect(await op.children(paths.lock)).toHaveLength(1);
    expect(first.coordinator.token).toBe(token);
    expect((await op.stat(paths.agent('gw-a')))?.ephemeralOwner).toBe(owner);
    expect((await op.stat(paths.reading('gw-a')))?.ephemeralOwner).toBe(owner);
    expect(second.events.filter((e) => e.name === 'error')).toHaveLength(1); // reported once, not per re-check

    // The first one stops: the second publishes, queues and leads as usual; its trace is gone.
    await first.close();
    await second.coordinator.ready();
    await waitForLeader(second, 10_000);
    expect((await op.stat(paths.agent('gw-a')))?.ephemeralOwner).toBe(second.coordinator.sessionId);
    expect(second.coordinator.duplicateOf).toBeNull();
    expect(await op.stat(conflictPath)).toBeNull();
    expect(lines.some((l) => l.msg === 'the other agent with our id is gone: publishing and queueing for the site lock')).toBe(true);
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
