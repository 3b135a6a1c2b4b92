// A bus that cannot connect logs `bus down` once, not a line per attempt, and `bus up again` once
// when something answers: real TCP sockets, the real simulator (src/outage-log.ts has the schedule of
// reminders, tested with a fake clock in test/outage-log.test.ts).
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Bus } from '../../src/drivers/modbus/bus.js';
import type { SimulatedSite } from '../../src/simulator/index.js';
import { freePort } from '../../tools/devtools/processes.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { startSimulator, testConfig } from './bus-fixtures.js';

const YAML = `
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: 502, timeoutMs: 200 }
devices:
  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter }
`;

let sim: SimulatedSite | null = null;
let bus: Bus | null = null;
afterEach(async () => {
  await bus?.close();
  await sim?.close();
  bus = sim = null;
});

describe('bus outage lines', () => {
  it('refused connects every few ms for 1.5 s: one warn, no stack; one info when a server answers', async () => {
    const config = testConfig(YAML);
    const port = await freePort();
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const cfg = config.buses[0];
    if (cfg?.type !== 'tcp') throw new Error('test config: a TCP bus');
    bus = new Bus({ ...cfg, port }, { logger, reconnect: { initialMs: 5, maxMs: 20 } });
    bus.start();
    const unit = bus.unit(1, 'inv-1');
    await sleep(1500);
    expect(bus.stats().errors.transport + bus.stats().connects).toBe(0); // nothing answered, nothing sent
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[40, 'bus down']]);
    expect(lines[0]).toMatchObject({ bus: 'lan', failures: 2, error: { type: 'TransportError', code: 'CONNECTION_REFUSED' } });
    expect(JSON.stringify(lines)).not.toMatch(/"stack"/);

    const simConfig = testConfig(YAML);
    const simBus = simConfig.buses[0];
    if (simBus?.type === 'tcp') simBus.port = port;
    sim = await startSimulator(simConfig);
    await waitFor('a read through the bus', () => unit.read('input', 0, 1).then(() => true, () => false), { timeoutMs: 5000 });
    const after = lines.slice(1).map((l) => [l.level, l.msg]);
    expect(after).toEqual([[30, 'bus up again']]);
    expect(Number(lines[1]?.failures)).toBeGreaterThan(10);
    expect(Number(lines[1]?.downForMs)).toBeGreaterThan(1400);
  });
});
