// What the journal gets when the devices die and come back (CONTRACT.md section 8, logs): the built
// CLI (`gridkeeper run`) polling every 250 ms, the simulator process stopped for 5 s and started
// again. Per device one warn line, without a stack, and one info line when it answers again; the
// bus the same once. Before, each failed poll wrote a warning with a stack trace.
import { describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { e2eSuite, E2eSite } from './harness.js';

const suite = e2eSuite({ tickTimeMs: 200 });

/** The JSON log lines of `lines` from index `from` on. */
function jsonLines(lines: readonly string[], from: number): Array<Record<string, unknown>> {
  return lines.slice(from).flatMap((l) => {
    if (!l.startsWith('{')) return [];
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe('a device that dies and comes back', () => {
  it('5 s dead at 250 ms polls: one warn line per device and for the bus, no stack; one info line each when back', async () => {
    const site = await E2eSite.start({ zkConnect: suite.zk.connectString, pollIntervalMs: 250 });
    const agent = await site.startAgent('gw-a');
    await agent.leader(); // the start-up lines are behind us
    await waitFor(
      'both devices ok',
      async () => {
        const { body } = await agent.health();
        const devices = body.devices as Record<string, string>;
        return devices['inv-1'] === 'ok' && devices['wt-1'] === 'ok';
      },
      { timeoutMs: 20_000 },
    );

    const from = agent.child.lines.length;
    await site.stopSimulator();
    await sleep(5000);
    const dead = jsonLines(agent.child.lines, from);
    const warnOf = (device: string): Array<Record<string, unknown>> => dead.filter((l) => l.level === 40 && l.device === device);
    for (const device of ['inv-1', 'wt-1']) {
      expect(warnOf(device).map((l) => l.msg), device).toEqual(['device down']);
      expect(warnOf(device)[0]).toMatchObject({ bus: 'lan', error: { type: 'TransportError' } });
    }
    const busLines = dead.filter((l) => l.bus === 'lan' && l.device === undefined && (l.level as number) >= 30);
    expect(busLines.map((l) => [l.level, l.msg])).toEqual([[40, 'bus down']]);
    // About 20 failed polls per device went by, and a dozen connects; the journal of those 5 s:
    expect(dead.map((l) => `${String(l.level)} ${String(l.msg)}`).sort()).toEqual(['40 bus down', '40 device down', '40 device down']);
    expect(agent.child.lines.slice(from).join('\n')).not.toMatch(/"stack"/);
    const { body } = await agent.health();
    expect(body.devices).toEqual({ 'inv-1': 'error', 'wt-1': 'error' });

    await site.restartSimulator();
    // The bus retries with backoff (up to a few seconds after 5 s of refused connects).
    for (const device of ['inv-1', 'wt-1']) {
      await agent.child.waitForJson((o) => o.msg === 'device up again' && o.device === device, 20_000, { from });
    }
    const all = jsonLines(agent.child.lines, from);
    for (const device of ['inv-1', 'wt-1']) {
      const mine = all.filter((l) => l.device === device && (l.level as number) >= 30);
      expect(mine.map((l) => [l.level, l.msg]), device).toEqual([
        [40, 'device down'],
        [30, 'device up again'],
      ]);
      expect(Number(mine[1]?.downForMs)).toBeGreaterThanOrEqual(5000);
      expect(Number(mine[1]?.failedPolls)).toBeGreaterThanOrEqual(15);
    }
    const bus = all.filter((l) => l.bus === 'lan' && l.device === undefined && (l.level as number) >= 30);
    expect(bus.map((l) => [l.level, l.msg])).toEqual([
      [40, 'bus down'],
      [30, 'bus up again'],
    ]);
    expect(agent.child.lines.slice(from).join('\n')).not.toMatch(/"stack"/);
  });
});
