// One clock for everything a reader sees (CONTRACT.md section 9), in-process: an Agent whose local
// wall clock is a year behind (a Clock handed in; monotonic time and timers are the real ones, as on
// a Raspberry Pi that booted without a battery clock), against a real ZooKeeper and the in-process
// simulator. What it writes and serves is stamped by ZooKeeper's clock: readings (publishedAt,
// readAt), its agent document's startedAt, command results; /healthz, /metrics and the site page
// say how far the local clock is off; the log says it once. test/e2e/clock-offset.test.ts does the
// same with a real process under libfaketime.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import { systemClock, type Clock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { freePort } from '../../tools/devtools/ports.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { zooKeeperSuite } from '../helpers/zookeeper-suite.js';

const YEAR_MS = 365 * 86_400_000;
/**
 * How close to the true time (this test process's clock, which ZooKeeper on this machine shares) a
 * stamp must be. In-process, ZooKeeper's clock is learnt to within half a loopback round trip; the
 * rest is the age of a reading when it is looked at (polls every 200 ms, publish every 100 ms) on a
 * busy 2-core CI machine.
 */
const CLOSE_MS = 5000;

const silent = pino({ level: 'silent' });
const suite = zooKeeperSuite();
const { toClose } = suite;


/** The system clock with its wall time `offByMs` behind. */
function clockBehind(offByMs: number): Clock {
  return { ...systemClock, nowMs: () => Date.now() - offByMs };
}

function expectNear(iso: unknown, label: string): void {
  expect(typeof iso, label).toBe('string');
  const ms = Date.parse(iso as string);
  expect(Math.abs(ms - Date.now()), `${label} = ${String(iso)}, now ${new Date().toISOString()}`).toBeLessThan(CLOSE_MS);
}

describe('an agent whose clock is a year behind', () => {
  it("stamps readings, startedAt and results by ZooKeeper's clock and says how far off it is", async () => {
    const site = 'clock-behind';
    const modbusPort = await freePort();
    const httpPort = await freePort();
    const yaml = (agentId: string, listen: string): string => `
site: ${site}
agent: { id: ${agentId} }
zookeeper: { connect: "${suite.zk.connectString}", sessionTimeoutMs: 4000 }
publish: { intervalMs: 100 }
http: { listen: ${listen} }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: ${modbusPort}, timeoutMs: 500 }
devices:
  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter, pollIntervalMs: 200 }
`;
    const sim = new SimulatedSite(parseConfig(yaml('simulator', 'false'), `${site}-sim.yaml`), { logger: silent, ...frozenOptions() });
    await sim.start();
    toClose.push(sim);
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const agent = new Agent(parseConfig(yaml('gw-a', `"127.0.0.1:${httpPort}"`), `${site}-gw-a.yaml`), { logger, version: 'test', clock: clockBehind(YEAR_MS) });
    await agent.start();
    toClose.push(agent);
    const op = await SiteClient.open({ connect: suite.zk.connectString, site }, { logger: silent });
    toClose.push(op);
    await waitFor('leader, inv-1 ok', () => agent.isLeader && agent.readings()['inv-1']?.status === 'ok', { timeoutMs: 15_000 });
    // Polls and a publish after the offset was learnt (it was, before the lock: at the agent node's create).
    await sleep(500);

    // /healthz: ZooKeeper's clock minus ours, a year.
    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).json()) as Record<string, unknown>;
    expect(typeof health.clockOffsetMs).toBe('number');
    expect(Math.abs((health.clockOffsetMs as number) - YEAR_MS)).toBeLessThan(1000);

    // The readings in ZooKeeper and the agent document.
    const readings = (await op.readings('gw-a')) as { publishedAt: string; devices: Record<string, { readAt: string }> };
    expectNear(readings.publishedAt, 'publishedAt');
    expectNear(readings.devices['inv-1']?.readAt, 'readAt');
    const agentDoc = await waitFor(
      'startedAt corrected in the agent document',
      async () => {
        const doc = await op.readJson(op.paths.agent('gw-a'));
        return doc !== null && Math.abs(Date.parse(String(doc.startedAt)) - Date.now()) < 60_000 ? doc : undefined;
      },
      { timeoutMs: 5000 },
    );
    expectNear(agentDoc.startedAt, 'startedAt');

    // /metrics: the same offset, in seconds.
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    const gauge = /^gridkeeper_clock_offset_seconds (\S+)$/m.exec(metrics);
    expect(gauge, 'gridkeeper_clock_offset_seconds sample').not.toBeNull();
    expect(Math.abs(Number(gauge?.[1]) - YEAR_MS / 1000)).toBeLessThan(1);
    // Ages are by the same clock: not a year.
    const age = /^gridkeeper_point_age_seconds\{device="inv-1"\} (\S+)$/m.exec(metrics);
    expect(Number(age?.[1])).toBeLessThan(CLOSE_MS / 1000);

    // The site page's document: made by the corrected clock, ages by it, the offset for its banner.
    const page = (await (await fetch(`http://127.0.0.1:${httpPort}/api/site`)).json()) as {
      generatedAt: string;
      agent: { clockOffsetMs: number | null };
      devices: Record<string, { ageMs: number | null }>;
    };
    expectNear(page.generatedAt, 'generatedAt');
    expect(Math.abs((page.agent.clockOffsetMs ?? 0) - YEAR_MS)).toBeLessThan(1000);
    expect(page.devices['inv-1']?.ageMs).toBeLessThan(CLOSE_MS);

    // A command: applied (its TTL is judged by ZooKeeper's clock), its result stamped by it.
    const id = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'clock-test' });
    const result = (await op.awaitResults([id], 10_000)).get(id);
    expect(result?.status).toBe('applied');
    expectNear(result?.startedAt, 'result startedAt');
    expectNear(result?.finishedAt, 'result finishedAt');

    // Said once in the log, with the offset.
    const warned = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('the local clock is'));
    expect(warned).toHaveLength(1);
    expect(warned[0]?.level).toBe(40);
    expect(Math.abs((warned[0]?.clockOffsetMs as number) - YEAR_MS)).toBeLessThan(1000);
    expect(warned[0]?.msg).toContain('365 days behind');
  });
});
