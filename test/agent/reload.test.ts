// A reload in-process (src/agent/reload.ts on a real Agent): against a real ZooKeeper and the real
// simulator on real TCP sockets. Only what changed is rebuilt: an unchanged bus keeps its
// connection, a new device shows `pending` first, a removed one leaves the readings; the session and
// the lock stay. SIGHUPs that come during a reload are coalesced into one more.
import fs from 'node:fs';
import nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import type { DeviceReading } from '../../src/agent/device-state.js';
import { createLogger } from '../../src/agent/logger.js';
import { Reloader } from '../../src/agent/reload.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { freePort } from '../../tools/devtools/ports.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { zooKeeperSuite } from '../helpers/zookeeper-suite.js';

const dir = makeTempDir('reload');
const suite = zooKeeperSuite();
const { toClose } = suite;


interface SiteFiles {
  /** Writes the agent's site file: `devices` are the lines under `devices:`; `field: false` leaves that bus out. */
  write(o: SiteFileOptions): string;
  sim: SimulatedSite;
  /** The simulator's log lines (debug: one `client connected` per Modbus TCP connection, with its bus). */
  simLines: Record<string, unknown>[];
}

interface SiteFileOptions {
  devices: string;
  field?: boolean;
  level?: string;
  lanTimeoutMs?: number;
}

const INV = '  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter, pollIntervalMs: 200 }';
const WT = '  - { id: wt-1, kind: turbine, bus: lan, unitId: 2, profile: generic-turbine, pollIntervalMs: 200 }';
const BMS = '  - { id: bms-1, kind: bms, bus: field, unitId: 3, profile: generic-bms, pollIntervalMs: 200 }';

/** A simulator serving inv-1 and wt-1 on bus lan, bms-1 on bus field (its own port), and the agent's site file. */
async function site(name: string): Promise<SiteFiles> {
  const [lanPort, fieldPort] = [await freePort(), await freePort()];
  const file = nodePath.join(dir, `${name}.yaml`);
  const yaml = (o: SiteFileOptions): string => `
site: ${name}
agent: { id: gw-a }
zookeeper: { connect: "${suite.zk.connectString}", sessionTimeoutMs: 4000 }
publish: { intervalMs: 100 }
http: { listen: false }
log: { level: ${o.level ?? 'info'} }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: ${lanPort}, timeoutMs: ${o.lanTimeoutMs ?? 500} }
${o.field === false ? '' : `  - { id: field, type: tcp, host: 127.0.0.1, port: ${fieldPort}, timeoutMs: 500 }`}
devices:
${o.devices}
`;
  const simLines: Record<string, unknown>[] = [];
  const simLog = pino({ level: 'debug' }, { write: (line: string) => void simLines.push(JSON.parse(line) as Record<string, unknown>) });
  const sim = new SimulatedSite(parseConfig(yaml({ devices: [INV, WT, BMS].join('\n') }), `${name}-sim.yaml`), { logger: simLog, ...frozenOptions() });
  await sim.start();
  toClose.push(sim);
  return {
    sim,
    simLines,
    write: (o) => {
      fs.writeFileSync(file, yaml(o));
      return file;
    },
  };
}

/** A started agent on `file`, its reloader, the reloader's systemd messages and every log line. */
async function start(file: string) {
  const lines: Record<string, unknown>[] = [];
  const onLine: Array<(line: Record<string, unknown>) => void> = [];
  const logger = createLogger('info', {}, {
    write: (text: string) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      lines.push(line);
      for (const f of onLine) f(line);
    },
  });
  const agent = new Agent(loadConfig(file), { logger, version: 'test' });
  await agent.start();
  toClose.push(agent);
  const notified: string[] = [];
  const reloader = new Reloader({
    load: () => loadConfig(file),
    target: agent,
    notifier: { reloading: () => notified.push('RELOADING=1'), ready: () => notified.push('READY=1') },
    logger,
    env: {},
    clock: systemClock,
  });
  toClose.push(reloader);
  await waitFor('leader, devices ok', () => agent.isLeader && Object.values(agent.readings()).every((r) => r.status === 'ok'), { timeoutMs: 15_000 });
  return { agent, reloader, logger, lines, onLine, notified, msgs: (msg: string) => lines.filter((l) => l.msg === msg) };
}

describe('reload', () => {
  it('rebuilds only what changed, on the same session and lock: a new device is pending first, a removed one is gone', async () => {
    const s = await site('reload-diff');
    const a = await start(s.write({ devices: [INV, WT].join('\n'), field: false }));
    const sessionId = a.agent.coordinator.sessionId;
    const token = a.agent.coordinator.token;
    const lanConnects = (): number => s.simLines.filter((l) => l.msg === 'client connected' && l.bus === 'lan').length;
    const connectsBefore = lanConnects();
    expect(connectsBefore).toBe(1);

    // bms-1 answers late, so its first poll cannot be done when the reload is.
    s.sim.device('bms-1').faults.delayMs = 300;
    // The readings at the moment the reload says it is done (the log line is written synchronously).
    const seen: { atReload?: Record<string, DeviceReading> } = {};
    a.onLine.push((line) => {
      if (line.msg === 'site file reloaded') seen.atReload = a.agent.readings();
    });
    s.write({ devices: [INV, BMS].join('\n'), level: 'debug' }); // wt-1 goes; bus field and bms-1 come
    a.reloader.request();
    const atReload = await waitFor('reloaded', () => seen.atReload, { timeoutMs: 10_000 });

    expect(Object.keys(atReload)).toEqual(['inv-1', 'bms-1']);
    expect(atReload['bms-1']?.status).toBe('pending');
    expect(atReload['inv-1']?.status).toBe('ok'); // its poller kept running: no pending in between
    expect(a.msgs('site file reloaded')[0]).toMatchObject({
      applied: ['log.level'],
      buses: { added: ['field'], changed: [], removed: [] },
      devices: { added: ['bms-1'], rebuilt: [], removed: ['wt-1'] },
      restartKeys: [],
    });
    expect(a.logger.level).toBe('debug');
    expect(a.notified).toEqual(['RELOADING=1', 'READY=1']);

    await waitFor('bms-1 read', () => (a.agent.readings()['bms-1']?.status === 'ok' ? true : undefined), { timeoutMs: 10_000 });
    expect(a.agent.readings()['bms-1']?.values).toHaveProperty('stateOfCharge');
    expect(lanConnects()).toBe(connectsBefore); // the unchanged bus kept its connection
    expect(s.simLines.filter((l) => l.msg === 'client connected' && l.bus === 'field')).toHaveLength(1);
    expect(a.agent.coordinator.sessionId).toBe(sessionId);
    expect(a.agent.coordinator.token).toBe(token);
    expect(a.agent.isLeader).toBe(true);
    expect(a.agent.config.devices.map((d) => d.id)).toEqual(['inv-1', 'bms-1']);
    // gridkeeper_device_up of the removed device is gone with it.
    expect(await a.agent.metrics.registry.getSingleMetricAsString('gridkeeper_device_up')).not.toContain('wt-1');
  });

  it('a changed bus is closed before its successor connects, and its devices are read again', async () => {
    const s = await site('reload-bus');
    const a = await start(s.write({ devices: [INV, WT].join('\n'), field: false }));
    const lan = (): string[] => s.simLines.filter((l) => l.bus === 'lan' && /^client (dis)?connected$/.test(String(l.msg))).map((l) => String(l.msg));
    expect(lan()).toEqual(['client connected']);
    s.write({ devices: [INV, WT].join('\n'), field: false, lanTimeoutMs: 800 });
    a.reloader.request();
    await waitFor('reloaded', () => a.msgs('site file reloaded')[0], { timeoutMs: 10_000 });
    expect(a.msgs('site file reloaded')[0]).toMatchObject({ buses: { changed: ['lan'] }, devices: { added: [], rebuilt: ['inv-1', 'wt-1'], removed: [] } });
    await waitFor('both read again', () => (Object.values(a.agent.readings()).every((r) => r.status === 'ok') ? true : undefined), { timeoutMs: 10_000 });
    await waitFor('the old connection closed, then a new one', () => (lan().length >= 3 ? true : undefined), { timeoutMs: 5000 });
    expect(lan()).toEqual(['client connected', 'client disconnected', 'client connected']);
    expect(a.agent.config.buses[0]?.timeoutMs).toBe(800);
  });

  it('coalesces SIGHUPs that come while a reload runs into one more reload', async () => {
    const s = await site('reload-coalesce');
    const a = await start(s.write({ devices: [INV, WT].join('\n'), field: false }));
    a.reloader.request();
    a.reloader.request();
    a.reloader.request();
    await waitFor('two reloads', () => (a.msgs('site file reloaded').length >= 2 ? true : undefined), { timeoutMs: 10_000 });
    await sleep(500);
    expect(a.msgs('reloading the site file')).toHaveLength(2);
    expect(a.msgs('reload requested while one runs: once more after it')).toHaveLength(1);
    expect(a.notified).toEqual(['RELOADING=1', 'READY=1', 'RELOADING=1', 'READY=1']);
  });
});
