// What a reload applies, what needs a restart and what it refuses: the plan of the new site file
// over the running one (src/agent/reload-plan.ts), from real files through the real loader.
import { describe, expect, it } from 'vitest';
import { planReload } from '../../src/agent/reload-plan.js';
import { parseConfig } from '../../src/config/load.js';
import type { SiteConfig } from '../../src/config/types.js';

interface Opts {
  connect?: string;
  sessionTimeoutMs?: number;
  publishMs?: number;
  verifyWrites?: boolean;
  lanTimeoutMs?: number;
  listen?: string;
  level?: string;
  /** Extra YAML lines under `devices:`. */
  moreDevices?: string;
  invPoints?: string;
  invPollMs?: number;
  fieldBus?: boolean;
}

function config(o: Opts = {}): SiteConfig {
  const yaml = `
site: north
agent: { id: gw-a }
zookeeper: { connect: "${o.connect ?? 'zk1:2181'}", sessionTimeoutMs: ${o.sessionTimeoutMs ?? 4000} }
publish: { intervalMs: ${o.publishMs ?? 1000} }
control: { verifyWrites: ${o.verifyWrites ?? true} }
http: { listen: "${o.listen ?? '127.0.0.1:8780'}" }
log: { level: ${o.level ?? 'info'} }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: 5020, timeoutMs: ${o.lanTimeoutMs ?? 500} }
${o.fieldBus === false ? '' : '  - { id: field, type: tcp, host: 127.0.0.1, port: 5021, timeoutMs: 500 }'}
devices:
  - id: inv-1
    kind: inverter
    bus: lan
    unitId: 1
    profile: generic-inverter
    pollIntervalMs: ${o.invPollMs ?? 1000}
${o.invPoints ?? ''}
  - { id: wt-1, kind: turbine, bus: lan, unitId: 2, profile: generic-turbine }
${o.fieldBus === false ? '' : '  - { id: bms-1, kind: bms, bus: field, unitId: 1, profile: generic-bms }'}
${o.moreDevices ?? ''}
`;
  return parseConfig(yaml, 'north.yaml');
}

const session = { sessionTimeoutMs: 4000 };

describe('planReload', () => {
  it('the same file changes nothing', () => {
    const plan = planReload(config(), config(), session);
    expect(plan).toMatchObject({ restartKeys: [], applied: [], refused: null });
    expect(plan.modbus).toEqual({ buses: { added: [], changed: [], removed: [] }, devices: { added: [], rebuilt: [], removed: [] } });
    expect(plan.effective).toEqual(config());
  });

  it('applies publish, control and log settings in place', () => {
    const plan = planReload(config(), config({ publishMs: 2000, level: 'debug' }), session);
    expect(plan.applied.sort()).toEqual(['log.level', 'publish.intervalMs']);
    expect(plan.restartKeys).toEqual([]);
    expect(plan.effective.publish.intervalMs).toBe(2000);
  });

  it('names the keys that need a restart and keeps their running values, applying the rest', () => {
    const plan = planReload(config(), config({ connect: 'zk9:2181', sessionTimeoutMs: 6000, listen: '0.0.0.0:8780', publishMs: 500 }), session);
    expect(plan.restartKeys.sort()).toEqual(['http.listen', 'zookeeper.connect', 'zookeeper.sessionTimeoutMs']);
    expect(plan.applied).toEqual(['publish.intervalMs']);
    expect(plan.effective.zookeeper).toEqual(config().zookeeper);
    expect(plan.effective.http.listen).toBe('127.0.0.1:8780');
    expect(plan.effective.publish.intervalMs).toBe(500);
  });

  it('rebuilds only the buses and devices that changed', () => {
    // lan changes (every device on it is rebuilt), field goes with its device, a bus and a device come.
    const next = config({
      lanTimeoutMs: 800,
      fieldBus: false,
      moreDevices: '  - { id: bms-2, kind: bms, bus: lan, unitId: 3, profile: generic-bms }',
    });
    const plan = planReload(config(), next, session);
    expect(plan.modbus.buses).toEqual({ added: [], changed: ['lan'], removed: ['field'] });
    expect(plan.modbus.devices).toEqual({ added: ['bms-2'], rebuilt: ['inv-1', 'wt-1'], removed: ['bms-1'] });
  });

  it('rebuilds a device whose point or poll interval changed, and leaves the others alone', () => {
    const points = `    points:
      - { name: frequency, table: input, address: 14, type: uint16, scale: 1, unit: cHz }`;
    expect(planReload(config(), config({ invPoints: points }), session).modbus.devices).toEqual({ added: [], rebuilt: ['inv-1'], removed: [] });
    expect(planReload(config(), config({ invPollMs: 500 }), session).modbus.devices.rebuilt).toEqual(['inv-1']);
  });

  it('rebuilds every driver when control.verifyWrites changes (a driver is made with it)', () => {
    const plan = planReload(config(), config({ verifyWrites: false }), session);
    expect(plan.applied).toEqual(['control.verifyWrites']);
    expect(plan.modbus.devices.rebuilt).toEqual(['inv-1', 'wt-1', 'bms-1']);
  });

  it('refuses a bus timeout the running session cannot carry, keeps the running buses and devices, applies the rest', () => {
    // Valid in the file (8000 / 4 = 2000), but the running session has 4000 ms: at most 1000.
    const next = config({ sessionTimeoutMs: 8000, lanTimeoutMs: 1500, publishMs: 300, moreDevices: '  - { id: bms-2, kind: bms, bus: lan, unitId: 3, profile: generic-bms }' });
    const plan = planReload(config(), next, session);
    expect(plan.refused?.keys).toEqual(['buses[0].timeoutMs']);
    expect(plan.refused?.reason).toMatch(/above 1000 ms \(the running session's timeout 4000 ms \/ 4\)/);
    expect(plan.effective.buses).toEqual(config().buses);
    expect(plan.effective.devices).toEqual(config().devices);
    expect(plan.modbus.devices).toEqual({ added: [], rebuilt: [], removed: [] });
    expect(plan.restartKeys).toEqual(['zookeeper.sessionTimeoutMs']);
    expect(plan.effective.publish.intervalMs).toBe(300);
  });

  it('checks against the timeout the server granted when it is shorter than the one asked for', () => {
    const plan = planReload(config(), config({ lanTimeoutMs: 900 }), { sessionTimeoutMs: 3000 });
    expect(plan.refused?.keys).toEqual(['buses[0].timeoutMs']);
    // Lowering W, or keeping a W that already runs, is never refused.
    expect(planReload(config({ lanTimeoutMs: 900 }), config({ lanTimeoutMs: 800 }), { sessionTimeoutMs: 3000 }).refused).toBeNull();
  });

  it("refuses a device fallback window that a successor could not meet with the running session's timeout", () => {
    // The generic inverter's limit reverts 60 s after its last write: 2/3 = 40 s must exceed T + 2p + 1 s.
    const running = config({ sessionTimeoutMs: 30_000 }); // 30 + 2 × 1 + 1 = 33 s
    const next = config({ sessionTimeoutMs: 20_000, invPollMs: 5000 }); // 20 + 2 × 5 + 1 = 31 s: valid, but 30 + 10 + 1 = 41 s runs
    const plan = planReload(running, next, { sessionTimeoutMs: 30_000 });
    expect(plan.refused?.keys).toEqual(['devices[0].activePowerLimit (revertTimer 60000 ms)']);
    expect(plan.refused?.reason).toMatch(/device inv-1's revertTimer window must exceed 41000 ms/);
    expect(plan.effective.devices).toEqual(running.devices);
  });
});
