// A reload changes coordination settings on the running session (SiteCoordinator.reconfigure):
// the actuation gate's W shortens the lease already granted at once, and closes the gate when the
// session leaves no room for it; the session and the lock stay.
import { describe, expect, it } from 'vitest';
import { siteConfig, startAgent, uniqueSite, waitFor, waitForLeader, useZooKeeper } from './harness.js';

/** T: the lease is T/2 = 1000 ms with W <= T/4, renewed every T/6 ≈ 333 ms. */
const T_MS = 2000;
const fx = useZooKeeper('afterEach');

describe('SiteCoordinator.reconfigure', () => {
  it("a larger W shortens the running lease at once; one the session cannot carry closes the gate until W is lowered again", async () => {
    const a = startAgent(siteConfig({ site: uniqueSite('gate-w'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS }), []);
    fx.agents.push(a);
    const token = await waitForLeader(a, 10_000);
    const { gate } = a.coordinator;
    await waitFor('gate open', () => gate.isOpen(), { timeoutMs: 5000 });
    const sessionId = a.coordinator.sessionId;

    // W = 900: L = min(T/2, 3T/4 - W) = 600 ms, from now, not from the next renewal.
    a.coordinator.reconfigure({ maxWriteMs: 900 });
    expect(gate.leaseMs()).toBe(600);
    expect(gate.leaseRemainingMs()).toBeLessThanOrEqual(600);
    expect(gate.isOpen()).toBe(true);

    // W = 1300: 3T/4 - W = 200 ms is no longer than one renewal interval: the gate shuts now.
    a.coordinator.reconfigure({ maxWriteMs: 1300 });
    expect(gate.isOpen()).toBe(false);
    expect(gate.guard()).toBe(false);

    // Back to T/4: the next renewal opens it again, on the same session and lock.
    a.coordinator.reconfigure({ maxWriteMs: T_MS / 4 });
    await waitFor('gate open again', () => gate.isOpen(), { timeoutMs: 3000 });
    expect(gate.leaseMs()).toBe(T_MS / 2);
    expect(a.coordinator.sessionId).toBe(sessionId);
    expect(a.coordinator.token).toBe(token);
  });
});
