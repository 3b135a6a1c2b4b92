// The fleet's commands under load, through the EMS's session (one identity allowed to submit to every
// site): latency from creating commands/cmd-N to reading its result, a burst on one site against the
// commands of another, a real change reaching a readings watcher, and SIGKILL failover.
// Every command sets inv-1.enabled (a switch without a fallback: nothing is held afterwards); `true`
// leaves the inverter as it is, `false` stops it (its power falls to 0: a change past any deadband).
import os from 'node:os';
import type { ResultDocument, ZkSession } from '../../src/coordination/index.js';
import type { FleetSite } from './fleet-sites.js';
import { SESSION_TIMEOUT_MS } from './fleet-sites.js';
import { sleep } from '../devtools/wait.js';
import { NodeWatcher, valueIn } from './publish-latency.js';

const RESULT_WAIT_MS = 15_000;

/** Submits one command to `site` and waits for its result; ms from before the create to the result read. */
export async function timedCommand(site: FleetSite, value: boolean): Promise<{ ms: number; result: ResultDocument }> {
  const t0 = performance.now();
  const id = await site.client.submit({ device: 'inv-1', point: 'enabled', value, issuedBy: 'bench' });
  const result = await site.client.awaitResult(id, RESULT_WAIT_MS);
  if (result === null) throw new Error(`${site.name}: Timeout after ${RESULT_WAIT_MS}ms waiting for the result of ${id}`);
  if (result.status !== 'applied') throw new Error(`${site.name}: ${id} ${String(result.status)}: ${String(result.error)}`);
  return { ms: performance.now() - t0, result };
}

/** `n` commands one after the other on each site, all sites at once; latencies (ms) by site. */
export async function sequentialCommands(sites: readonly FleetSite[], n: number): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  await Promise.all(
    sites.map(async (site) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) ms.push((await timedCommand(site, true)).ms);
      out.set(site.name, ms);
    }),
  );
  return out;
}

export interface BurstRun {
  /** The victim's latencies before the burst, during it, and after it. */
  quietBefore: number[];
  during: number[];
  quietAfter: number[];
  burstCommands: number;
  /** From the first create of the burst to the last of its results read. */
  burstMs: number;
}

/**
 * `burstSize` commands created at once on `burster` while `victim` keeps submitting one command at a
 * time until the burst's last result is in; `quietN` victim commands before and after. The burster's
 * agents run at nice 19 from then on: on this one machine their CPU would otherwise be the victim's,
 * where in the field they are other gateways; what the sites do share is the ensemble.
 */
export async function burstIsolation(victim: FleetSite, burster: FleetSite, burstSize: number, quietN: number): Promise<BurstRun> {
  for (const child of burster.agents.values()) if (child.pid !== undefined) os.setPriority(child.pid, 19);
  const quietBefore: number[] = [];
  for (let i = 0; i < quietN; i++) quietBefore.push((await timedCommand(victim, true)).ms);
  const during: number[] = [];
  let burstDone = false;
  const t0 = performance.now();
  const burst = (async () => {
    const ids = await Promise.all(Array.from({ length: burstSize }, () => burster.client.submit({ device: 'inv-1', point: 'enabled', value: true, issuedBy: 'bench-burst' })));
    for (const id of ids) {
      if ((await burster.client.awaitResult(id, 120_000)) === null) throw new Error(`${burster.name}: no result for ${id} of the burst`);
    }
    burstDone = true;
    return performance.now() - t0;
  })();
  while (!burstDone) during.push((await timedCommand(victim, true)).ms);
  const burstMs = await burst;
  const quietAfter: number[] = [];
  for (let i = 0; i < quietN; i++) quietAfter.push((await timedCommand(victim, true)).ms);
  return { quietBefore, during, quietAfter, burstCommands: burstSize, burstMs };
}

/** The agent that holds `site`'s lock, as the lock queue says. */
async function holderOf(site: FleetSite): Promise<string> {
  const queue = await site.client.lockQueue();
  const id = queue[0]?.agentId;
  if (id === undefined || id === null) throw new Error(`${site.name}: nobody holds the lock`);
  return id;
}

/**
 * Stops and starts inv-1 `changes` times through its `enabled` coil; each time, `fromApplied`: from the
 * moment the device changed (the result's `finishedAt`: the agent wrote the coil and read it back;
 * this bench runs on the same machine, and the agent stamps with the ZooKeeper-corrected clock, so
 * the two wall clocks agree to a few ms) until a watcher on the holder's readings reads the coil's new
 * state: the wait for the next poll, the write of the snapshot and the watch; `fromCommand`: from just
 * before the command's create until the watcher reads inv-1's activePower at its new level (0 when
 * stopped, above the deadband when running again), with the command's round trip in front and the
 * simulated inverter's ramp after it.
 */
export async function changeToWatcher(site: FleetSite, session: ZkSession, changes: number): Promise<{ fromApplied: number[]; fromCommand: number[] }> {
  const holder = await holderOf(site);
  const watcher = new NodeWatcher(session, site.paths.reading(holder));
  const out = { fromApplied: [] as number[], fromCommand: [] as number[] };
  try {
    await watcher.start();
    for (let k = 0; k < changes; k++) {
      const running = k % 2 === 1; // stop first, then start again, ...
      // At a random moment: right after the last change was seen, the next command would always land
      // at the same phase of the agent's polls. Two to three seconds apart: a real change on a site
      // whose deadbands hold it still otherwise (changes closer than two publish intervals are paced
      // as on a site whose values all move: bench section 4 measures that).
      await sleep(2000 + Math.random() * 1000);
      const t0 = performance.now();
      const { result } = await timedCommand(site, running);
      if (result.agentId !== holder) throw new Error(`${site.name}: ${String(result.agentId)} applied it, not the watched holder ${holder}`);
      // The register the command wrote, as the next poll reads it: the agent's part, from the write on.
      const seenSwitch = await watcher.waitFor((doc) => valueIn(doc, 'inv-1', 'enabled') === running, 10_000);
      const seenSwitchWallMs = Date.now() - (performance.now() - seenSwitch);
      // The power at its new level: the device's physics (ramping at 100 %/s, stepped every 200 ms) on top.
      const seenPower = await watcher.waitFor((doc) => {
        const power = valueIn(doc, 'inv-1', 'activePower');
        return typeof power === 'number' && (running ? power > 100 : power === 0);
      }, 10_000);
      out.fromApplied.push(seenSwitchWallMs - Date.parse(result.finishedAt));
      out.fromCommand.push(seenPower - t0);
    }
  } finally {
    watcher.close();
  }
  return out;
}

/** SIGKILL of `site`'s holder; ms from the signal to the standby's `applied` result read by the bench. */
export async function sigkillFailover(site: FleetSite): Promise<{ ms: number; from: string; to: string }> {
  const from = await holderOf(site);
  const to = [...site.agents.keys()].find((id) => id !== from);
  const leader = site.agents.get(from);
  if (to === undefined || leader === undefined) throw new Error(`${site.name}: no standby beside ${from}`);
  const t0 = performance.now();
  leader.kill('SIGKILL');
  site.agents.delete(from);
  for (let i = 0; i < 5; i++) {
    const id = await site.client.submit({ device: 'inv-1', point: 'enabled', value: true, issuedBy: 'bench-failover' });
    const result = await site.client.awaitResult(id, SESSION_TIMEOUT_MS * 3 + 10_000);
    if (result === null) throw new Error(`${site.name}: no result for ${id} after SIGKILL of ${from}`);
    if (result.agentId === to && result.status === 'applied') return { ms: performance.now() - t0, from, to };
  }
  throw new Error(`${site.name}: ${from} kept applying commands after SIGKILL`);
}
