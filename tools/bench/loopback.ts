// A loopback site for the command, publish and failover measurements: simulated inverters served
// in this process on one Modbus TCP port on 127.0.0.1, and agent configs that poll them.
import { pino, type Logger } from 'pino';
import { freePort } from '../devtools/ports.js';
import { SimulatedSite, frozenOptions, type WriteRecord } from '../../src/simulator/index.js';
import { readSite, writeSite, type DeviceSpec } from './site-config.js';

export interface LoopbackSite {
  readonly site: string;
  readonly port: number;
  readonly devices: DeviceSpec[];
  readonly sim: SimulatedSite;
  /** Writes the config of one agent of this site; returns its path. */
  agentConfig(agentId: string, opts: { httpPort: number | null; sessionTimeoutMs?: number; publishIntervalMs?: number }): string;
  close(): Promise<void>;
}

export interface LoopbackOptions {
  /** Keys added to each inverter's entry, for the simulator and the agents alike (e.g. a point on another revert window). */
  deviceKeys?: Record<string, unknown>;
  /** The session timeout in the simulator's file too, ms: its config passes the same checks (the fallback timing rule) as the agents'. */
  sessionTimeoutMs?: number;
  /** Every write the devices receive, as `gridkeeper simulate --write-log` records it. */
  onWrite?: (record: WriteRecord) => void;
  /** The simulator's log (default silent): its devices log their own revert timers running out. */
  logger?: Logger;
}

/** `inverters` generic inverters (inv-1..inv-N, unit ids 1..N), frozen: values move only when set. */
export async function startLoopbackSite(
  dir: string,
  site: string,
  zookeeper: string,
  inverters: number,
  pollIntervalMs = 1000,
  opts: LoopbackOptions = {},
): Promise<LoopbackSite> {
  const port = await freePort();
  // Bus timeout 500 ms: at most a quarter of the shortest session timeout used (4000 ms), as the config checks ask.
  const buses = [{ id: 'lan', port, timeoutMs: 500 }];
  const devices: DeviceSpec[] = Array.from({ length: inverters }, (_, i) => ({
    id: `inv-${i + 1}`,
    bus: 'lan',
    unitId: i + 1,
    profile: 'generic-inverter',
    kind: 'inverter',
    pollIntervalMs,
    ...(opts.deviceKeys ? { keys: opts.deviceKeys } : {}),
  }));
  const simFile = writeSite(dir, `${site}-simulator`, {
    site,
    agentId: 'simulator',
    zookeeper,
    httpPort: null,
    ...(opts.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: opts.sessionTimeoutMs } : {}),
    buses,
    devices,
  });
  const sim = new SimulatedSite(readSite(simFile), {
    ...frozenOptions(),
    logger: opts.logger ?? pino({ level: 'silent' }),
    ...(opts.onWrite ? { onWrite: opts.onWrite } : {}),
  });
  await sim.start();
  return {
    site,
    port,
    devices,
    sim,
    agentConfig: (agentId, opts) =>
      writeSite(dir, `${site}-${agentId}`, {
        site,
        agentId,
        zookeeper,
        httpPort: opts.httpPort,
        sessionTimeoutMs: opts.sessionTimeoutMs ?? 10_000,
        publishIntervalMs: opts.publishIntervalMs ?? 1000,
        buses,
        devices,
      }),
    close: () => sim.close(),
  };
}
