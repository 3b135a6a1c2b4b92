// An agent (`gridkeeper run`) as a child process of the bench, and its HTTP endpoint.
import { spawnGridkeeper, type ChildHandle } from '../devtools/processes.js';
import { until, WaitAborted } from './zk.js';

export function startAgent(configFile: string, label: string): ChildHandle {
  // warn: the agent logs a line per state change at info; a bench run wants quiet children.
  return spawnGridkeeper(['run', '--config', configFile], { label, env: { LOG_LEVEL: 'warn' } });
}

export function pidOf(child: ChildHandle): number {
  if (child.pid === undefined || !child.isRunning()) throw new Error(`${child.label} is not running\n${child.tail()}`);
  return child.pid;
}

interface Healthz {
  status: string;
  zookeeper: string;
  devices: Record<string, string>;
}

export async function healthz(httpPort: number): Promise<Healthz> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(5000) });
  const body: unknown = await res.json();
  if (typeof body !== 'object' || body === null || !('devices' in body) || typeof body.devices !== 'object' || body.devices === null) {
    throw new Error(`/healthz answered ${JSON.stringify(body)}`);
  }
  const devices = Object.fromEntries(Object.entries(body.devices).map(([k, v]) => [k, String(v)]));
  const status = 'status' in body ? String(body.status) : '?';
  const zookeeper = 'zookeeper' in body ? String(body.zookeeper) : '?';
  return { status, zookeeper, devices };
}

/** Waits until every device of the agent has been polled successfully and ZooKeeper is connected. */
export function untilAllOk(child: ChildHandle, httpPort: number, deviceCount: number, timeoutMs: number): Promise<true> {
  return until(`${child.label}: ${deviceCount} devices ok and ZooKeeper connected`, timeoutMs, async () => {
    if (!child.isRunning()) throw new WaitAborted(`${child.label} exited\n${child.tail()}`);
    const h = await healthz(httpPort);
    const ok = Object.values(h.devices).filter((s) => s === 'ok').length;
    return ok === deviceCount && h.zookeeper === 'connected' ? true : null;
  }, 200);
}
