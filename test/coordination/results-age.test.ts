// control.resultsMaxAgeMs (CONTRACT.md section 10): the lock holder prunes results older than the
// maximum age by ZooKeeper's clock (a result znode's ctime against the ServerClock's estimate), not
// by the gateway's own wall clock. The agent here runs with a wall clock a year ahead: judged by it,
// every result would be a year old at once.
import { describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/clock.js';
import { pathsOf, siteConfig, sleep, startAgent, uniqueSite, waitFor, waitForLeader, useZooKeeper } from './harness.js';

const T_MS = 4000;
const MAX_AGE_MS = 3000;
/** The age check runs every tenth of the maximum age (results-pruner.ts); plus a loaded machine's slack. */
const LATE_MS = MAX_AGE_MS / 10 + 1500;
const YEAR_MS = 365 * 24 * 3_600_000;
const fx = useZooKeeper('afterEach');

describe('results pruned by age', () => {
  it("deletes a result once it is older than resultsMaxAgeMs by ZooKeeper's clock, and not before", async () => {
    const config = siteConfig({ site: uniqueSite('age'), agentId: 'gw-a', connect: fx.zk.connectString, sessionTimeoutMs: T_MS, resultsMaxAgeMs: MAX_AGE_MS });
    const paths = pathsOf(config);
    const op = fx.admin.site(paths);
    const aYearAhead: Clock = { ...systemClock, nowMs: () => Date.now() + YEAR_MS };
    const a = startAgent(config, [], { clock: aYearAhead });
    fx.agents.push(a);
    await waitForLeader(a, 10_000);

    const first = [await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 10 }), await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 11 })];
    await op.awaitResults(first, 10_000);
    // The test and the server share this machine's clock: a result's age is Date.now() - its ctime.
    const ctimes = await Promise.all(first.map(async (id) => (await op.stat(paths.result(id)))?.ctimeMs ?? Number.NaN));
    await sleep(MAX_AGE_MS / 2);
    expect(await op.resultIds()).toEqual(first); // young: kept, whatever the local clock says

    const second = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 12 });
    await op.awaitResults([second], 10_000);
    await waitFor('the first results pruned', async () => (await op.resultIds()).length === 1, { timeoutMs: MAX_AGE_MS + LATE_MS + 5000, intervalMs: 20 });
    const goneAtMs = Date.now();
    expect(await op.resultIds()).toEqual([second]);
    for (const ctime of ctimes) {
      expect(goneAtMs - ctime).toBeGreaterThan(MAX_AGE_MS);
      expect(goneAtMs - ctime).toBeLessThan(MAX_AGE_MS + LATE_MS);
    }
    await waitFor('the last result pruned', async () => (await op.resultIds()).length === 0, { timeoutMs: MAX_AGE_MS + LATE_MS + 5000, intervalMs: 50 });
    expect(a.coordinator.commandCounts().applied).toBe(3);
    expect(a.events.filter((e) => e.name === 'error')).toEqual([]);
  });
});
