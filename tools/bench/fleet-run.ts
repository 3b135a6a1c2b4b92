// The fleet bench's run: grows the fleet step by step (half the new sites in each variant), measures
// each step's quiet cost from the servers' own records, then at the largest step the commands, a burst,
// a real change reaching a watcher, the memory of the sites' trees, and SIGKILL failover.
import path from 'node:path';
import type { ZkSession } from '../../src/coordination/index.js';
import type { ChildHandle } from '../devtools/processes.js';
import { sleep, waitFor, WaitAbortedError } from '../devtools/wait.js';
import type { ZkEnsemble } from '../devtools/zookeeper.js';
import { burstIsolation, changeToWatcher, sequentialCommands, sigkillFailover, type BurstRun } from './fleet-commands.js';
import { siteTree, writesBySite, type SiteTree, type SiteWrites } from './fleet-cost.js';
import { AGENT_IDS, DEVICES_PER_SITE, startSiteAgents, type FleetSite, type Variant } from './fleet-sites.js';
import { EnsembleCpu, loadNow, mntr } from './fleet-zk.js';
import { readTxnLogs } from './txn-log.js';

export interface FleetPlan {
  /** Sites of each variant at each step (2 → 2 sites in all, 1 of each). */
  pairsPerStep: number[];
  /** Quiet window of each step, s. */
  windowS: number[];
  commandsPerSite: number;
  burstSize: number;
  watcherChanges: number;
}

export interface VariantWrites {
  sites: number;
  /** Per site and second. */
  txns: number;
  bytes: number;
  snapshots: number;
  /** Median snapshot size in the log, bytes. */
  snapshotBytes: number;
}

export interface StepResult {
  sites: number;
  agents: number;
  windowS: number;
  byVariant: Record<Variant, VariantWrites>;
  /** Cores the three servers kept busy together during the window. */
  serversCores: number;
  /** Transactions the log holds for the window, all sites and sessions, and the leader's own count of proposals (mntr). */
  txnsInWindow: number;
  proposalsInWindow: number | null;
  mntr: { znodes: number; dataBytes: number; watches: number; connections: number };
  loadAverage: number;
}

export interface FleetResult {
  idleServersCores: number;
  idleMntr: { znodes: number; dataBytes: number };
  steps: StepResult[];
  /** Trees of the sites at the largest step before any command (no results yet), by variant: averages. */
  idleTrees: Record<Variant, SiteTree>;
  commandsMs: Record<Variant, number[]>;
  burst: BurstRun;
  /** A real change to a readings watcher, from the moment the device changed (the command's result). */
  watcherMs: Record<Variant, number[]>;
  /** The same, from the command's create. */
  watcherFromCommandMs: Record<Variant, number[]>;
  failover: Record<Variant, { ms: number; from: string; to: string }>;
  /** A real result document and its path, for the heap calibration. */
  result: { path: string; data: Buffer };
  loadAverages: number[];
}

const READY_TIMEOUT_MS = 90_000;

export async function runFleet(
  plan: FleetPlan,
  sites: readonly FleetSite[],
  ensemble: ZkEnsemble,
  admin: ZkSession,
  log: (text: string) => void,
): Promise<FleetResult> {
  const loads: number[] = [loadNow()];
  const idleCpu = new EnsembleCpu(ensemble);
  await sleep(8000);
  const idleServersCores = idleCpu.stop();
  const leader = await ensemble.leader();
  const m0 = await mntr(leader);
  const steps: StepResult[] = [];
  let running: FleetSite[] = [];
  for (const [i, pairs] of plan.pairsPerStep.entries()) {
    const deadband = sites.filter((s) => s.variant === 'deadband').slice(0, pairs);
    const baseline = sites.filter((s) => s.variant === 'baseline').slice(0, pairs);
    const next = [...deadband, ...baseline];
    const added = next.filter((s) => !running.includes(s));
    log(`step ${i + 1}: ${next.length} sites (${added.length} new, ${added.length * AGENT_IDS.length} agents starting)`);
    for (const s of added) startSiteAgents(s);
    await Promise.all(added.map((s) => untilReady(s)));
    running = next;
    await sleep(5000); // past the start: leadership, the first snapshots
    steps.push(await quietWindow(running, ensemble, plan.windowS[i] ?? 30, log));
    loads.push(loadNow());
  }

  log('trees of the idle fleet');
  const idleTrees = { deadband: await averageTree(admin, running, 'deadband'), baseline: await averageTree(admin, running, 'baseline') };

  log(`commands: ${plan.commandsPerSite} per site, all sites at once`);
  const latencies = await sequentialCommands(running, plan.commandsPerSite);
  const commandsMs = { deadband: byVariant(latencies, running, 'deadband'), baseline: byVariant(latencies, running, 'baseline') };

  const [victim, burster] = running.filter((s) => s.variant === 'deadband');
  if (victim === undefined || burster === undefined) throw new Error('the burst needs two deadband sites');
  log(`burst: ${plan.burstSize} commands at once on ${burster.name}, ${victim.name} commanding meanwhile`);
  const burst = await burstIsolation(victim, burster, plan.burstSize, plan.commandsPerSite);

  // Watcher and failover on sites other than the burst's (its agents now run at nice 19), where there are.
  const oneOf = (variant: Variant): FleetSite => {
    const s = running.filter((x) => x.variant === variant && (x !== burster || running.length <= 4)).at(-1);
    if (s === undefined) throw new Error(`no ${variant} site`);
    return s;
  };
  log('a real change to a readings watcher');
  const [watchDeadband, watchBaseline] = await Promise.all([
    changeToWatcher(oneOf('deadband'), admin, plan.watcherChanges),
    changeToWatcher(oneOf('baseline'), admin, plan.watcherChanges),
  ]);
  const result = await aResult(admin, victim);

  log('SIGKILL of a holder, one site of each variant');
  const [foDeadband, foBaseline] = await Promise.all([sigkillFailover(oneOf('deadband')), sigkillFailover(oneOf('baseline'))]);
  loads.push(loadNow());
  return {
    idleServersCores,
    idleMntr: { znodes: m0.zk_znode_count ?? Number.NaN, dataBytes: m0.zk_approximate_data_size ?? Number.NaN },
    steps,
    idleTrees,
    commandsMs,
    burst,
    watcherMs: { deadband: watchDeadband.fromApplied, baseline: watchBaseline.fromApplied },
    watcherFromCommandMs: { deadband: watchDeadband.fromCommand, baseline: watchBaseline.fromCommand },
    failover: { deadband: foDeadband, baseline: foBaseline },
    result,
    loadAverages: loads,
  };
}

/** Both agents publish all devices `ok`, and one of them holds the lock. */
function untilReady(site: FleetSite): Promise<true> {
  return waitFor(
    `${site.name}: both agents publishing ${DEVICES_PER_SITE} devices ok, one holding the lock`,
    async () => {
      for (const child of site.agents.values()) assertRunning(child);
      let leaders = 0;
      for (const id of AGENT_IDS) {
        const doc = (await site.client.readings(id)) as { leader?: boolean; devices?: Record<string, { status?: string }> } | null;
        const ok = Object.values(doc?.devices ?? {}).filter((d) => d.status === 'ok').length;
        if (ok !== DEVICES_PER_SITE) return false;
        if (doc?.leader === true) leaders++;
      }
      return leaders === 1;
    },
    { timeoutMs: READY_TIMEOUT_MS, intervalMs: 500 },
  );
}

function assertRunning(child: ChildHandle): void {
  if (!child.isRunning()) throw new WaitAbortedError(`${child.label} exited\n${child.tail()}`);
}

async function quietWindow(sites: readonly FleetSite[], ensemble: ZkEnsemble, windowS: number, log: (t: string) => void): Promise<StepResult> {
  const leader = await ensemble.leader();
  const before = await mntr(leader);
  const cpu = new EnsembleCpu(ensemble);
  const fromMs = Date.now();
  log(`  quiet window ${windowS} s`);
  await sleep(windowS * 1000);
  const toMs = Date.now();
  const serversCores = cpu.stop();
  const after = await mntr(leader);
  const dataDir = leader.dir === null ? null : path.join(leader.dir, 'data');
  const txns = dataDir === null ? [] : readTxnLogs(dataDir);
  const { sites: bySite, other } = writesBySite(txns, fromMs, toMs);
  const seconds = (toMs - fromMs) / 1000;
  const variant = (v: Variant): VariantWrites => {
    const mine = sites.filter((s) => s.variant === v);
    const w = mine.map((s) => bySite.get(s.name) ?? { txns: 0, bytes: 0, snapshots: 0, snapshotBytes: 0 });
    const sum = (f: (x: SiteWrites) => number): number => w.reduce((a, x) => a + f(x), 0) / Math.max(1, mine.length) / seconds;
    const snapshots = w.reduce((a, x) => a + x.snapshots, 0);
    return {
      sites: mine.length,
      txns: sum((x) => x.txns),
      bytes: sum((x) => x.bytes),
      snapshots: sum((x) => x.snapshots),
      snapshotBytes: snapshots === 0 ? Number.NaN : w.reduce((a, x) => a + x.snapshotBytes, 0) / snapshots,
    };
  };
  const txnsInWindow = [...bySite.values()].reduce((a, x) => a + x.txns, other.txns);
  const proposals = (k: Record<string, number>): number | undefined => k.zk_proposal_count;
  const p0 = proposals(before);
  const p1 = proposals(after);
  return {
    sites: sites.length,
    agents: sites.reduce((n, s) => n + s.agents.size, 0),
    windowS: seconds,
    byVariant: { deadband: variant('deadband'), baseline: variant('baseline') },
    serversCores,
    txnsInWindow,
    proposalsInWindow: p0 === undefined || p1 === undefined ? null : p1 - p0,
    mntr: {
      znodes: after.zk_znode_count ?? Number.NaN,
      dataBytes: after.zk_approximate_data_size ?? Number.NaN,
      watches: after.zk_watch_count ?? Number.NaN,
      connections: after.zk_num_alive_connections ?? Number.NaN,
    },
    loadAverage: loadNow(),
  };
}

async function averageTree(session: ZkSession, sites: readonly FleetSite[], variant: Variant): Promise<SiteTree> {
  const trees = await Promise.all(sites.filter((s) => s.variant === variant).map((s) => siteTree(session, s.paths.site)));
  const n = Math.max(1, trees.length);
  return {
    znodes: trees.reduce((a, t) => a + t.znodes, 0) / n,
    bytes: trees.reduce((a, t) => a + t.bytes, 0) / n,
    results: trees.reduce((a, t) => a + t.results, 0) / n,
    snapshotBytes: trees.flatMap((t) => t.snapshotBytes),
  };
}

function byVariant(latencies: ReadonlyMap<string, number[]>, sites: readonly FleetSite[], variant: Variant): number[] {
  return sites.filter((s) => s.variant === variant).flatMap((s) => latencies.get(s.name) ?? []);
}

/** One real result of `site` (the heap calibration copies its size and path length). */
async function aResult(session: ZkSession, site: FleetSite): Promise<{ path: string; data: Buffer }> {
  const [id] = await site.client.resultIds();
  if (id === undefined) throw new Error(`${site.name} has no result`);
  const p = site.paths.result(id);
  return { path: p, data: (await session.get(p)).data };
}
