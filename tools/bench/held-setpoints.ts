// 7. Held setpoints (issue 11, CONTRACT.md section 7): two agents of one site (session timeout 4000
// ms, ZooKeeper tickTime 200 ms) and one simulated inverter whose limit falls back to 100 % by its
// own revert timer, R = 12 s after the last write of it (the simulator's timer, in real time). A
// command holds the limit at 30 %; then
//  - refresh cost: the holder alive, the device's write log over REFRESH_INTERVALS refreshes, and
//    the holder's Modbus request counter beside it (what the polls put on the bus);
//  - SIGKILL takeover, KILL_RUNS times: SIGKILL the holder at a random point of its refresh cycle
//    and time, as the device saw it, the standby's first write (its re-assertion). The killed agent
//    is replaced by a fresh standby before the next run.
// Witnesses of a fallback: the device's own log line when its timer runs out, a sampler of the value
// it serves, and any write of the fallback value.
import { pino } from 'pino';
import { readProfile } from '../../src/config/profiles.js';
import { refreshIntervalMs, windowAllowsTakeover } from '../../src/config/fallback-timing.js';
import { DEFAULT_ROOT, SiteClient, SitePaths, type ZkSession } from '../../src/coordination/index.js';
import type { WriteRecord } from '../../src/simulator/index.js';
import { freePort, type ChildHandle } from '../devtools/processes.js';
import { sleep, waitFor } from '../devtools/wait.js';
import { negotiatedTimeout, queuedAgents, startAgent, untilAllOk, untilLeader, untilQueued } from './agent-process.js';
import { heldSection, type HeldRun, type RefreshWindow } from './held-section.js';
import { startLoopbackSite } from './loopback.js';
import { scrape, sum, type Scrape } from './prometheus.js';
import type { Section } from './report.js';

export const SESSION_TIMEOUT_MS = 4000;
export const POLL_MS = 1000;
/** The revert window R, s: the smallest whole second with 2R/3 > T + 2p + 1 s = 7 s is 11; 12 leaves a second. */
export const WINDOW_S = 12;
export const HELD_PCT = 30;
export const KILL_RUNS = 3;
/** Polls of the holder counted before the hold: its requests per poll without refreshes. */
const NO_HOLD_POLLS = 3;
/** Refresh intervals counted with the holder alive (8 × 3 s = 24 s). */
export const REFRESH_INTERVALS = 8;
const DEVICE = 'inv-1';
const POINT = 'activePowerLimit';
/** What the simulated device logs when its timer runs out (src/simulator/models/point-revert.ts). */
const REVERT_LOG = 'revert timer ran out';
const SAMPLE_EVERY_MS = 50;

/** Wall ms with sub-ms precision, on the clock of the write log's `atMs` (the simulator runs in this process). */
const nowMs = (): number => performance.timeOrigin + performance.now();

interface Agent {
  id: string;
  child: ChildHandle;
  httpPort: number;
}

export async function heldSetpoints(dir: string, zookeeper: string, session: ZkSession): Promise<Section> {
  const windowMs = WINDOW_S * 1000;
  if (!windowAllowsTakeover(windowMs, SESSION_TIMEOUT_MS, POLL_MS)) throw new RangeError(`R = ${WINDOW_S} s breaks the timing rule with T = ${SESSION_TIMEOUT_MS} ms, p = ${POLL_MS} ms`);
  const point = limitPointOnWindow(WINDOW_S);
  const writes: WriteRecord[] = [];
  const revertsAtMs: number[] = [];
  const deviceLog = pino({ level: 'info' }, { write: (line: string) => void (line.includes(REVERT_LOG) && revertsAtMs.push(nowMs())) });
  const site = await startLoopbackSite(dir, 'bench-held', zookeeper, 1, POLL_MS, {
    deviceKeys: { points: [point.raw] },
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    onWrite: (w) => writes.push(w),
    logger: deviceLog,
  });
  const client = new SiteClient(session, new SitePaths(DEFAULT_ROOT, site.site));
  const agents = new Map<string, Agent>();
  let next = 1;
  const spawn = async (): Promise<Agent> => {
    const id = `held-${next++}`;
    const httpPort = await freePort();
    const child = startAgent(site.agentConfig(id, { httpPort, sessionTimeoutMs: SESSION_TIMEOUT_MS }), `held-setpoint agent ${id}`);
    const agent = { id, child, httpPort };
    agents.set(id, agent);
    return agent;
  };
  const offSamples: Array<{ atMs: number; value: unknown }> = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const negotiatedMs = await negotiatedTimeout(zookeeper, SESSION_TIMEOUT_MS);
    // The baseline: what the agents write to the device from their start to the hold (nothing held).
    const agentsFromMs = nowMs();
    const first = await spawn();
    await untilAllOk(first.child, first.httpPort, 1, 30_000);
    await untilLeader(client, first.id, 30_000);
    const second = await spawn();
    await untilQueued(client, [first.id, second.id]);
    // ... and the holder's requests per poll without a hold, to tell the polls' requests from the refreshes' later.
    const metricsUrl = `http://127.0.0.1:${first.httpPort}/metrics`;
    const a = await timedScrape(metricsUrl);
    await sleep(NO_HOLD_POLLS * POLL_MS);
    const b = await timedScrape(metricsUrl);
    const before = { writes: writes.length, ms: nowMs() - agentsFromMs, ...busDelta(a.scrape, b.scrape) };

    const id = await client.submit({ device: DEVICE, point: POINT, value: HELD_PCT, issuedBy: 'bench' });
    const result = await client.awaitResult(id, 10_000);
    if (result?.status !== 'applied') throw new Error(`the hold ${id} got ${JSON.stringify(result)}`);
    const heldFromMs = nowMs();
    const device = site.sim.device(DEVICE);
    sampler = setInterval(() => {
      const value = device.value(POINT);
      if (value !== HELD_PCT) offSamples.push({ atMs: nowMs(), value });
    }, SAMPLE_EVERY_MS);

    const refresh = await refreshWindow(writes, metricsUrl);

    const runs: HeldRun[] = [];
    for (let i = 0; i < KILL_RUNS; i++) {
      const [from, to] = await queuedAgents(client);
      const holder = from === undefined ? undefined : agents.get(from);
      if (holder === undefined || to === undefined) throw new Error(`run ${i + 1}: no holder and standby in the lock queue`);
      await untilLeader(client, holder.id, 10_000);
      // Anywhere in the holder's refresh cycle: just after a refresh is the easy case, just before the next the hard one.
      await sleep(Math.random() * refreshIntervalMs(windowMs, POLL_MS));
      runs.push(await killRun(session, client, writes, holder, to, i));
      agents.delete(holder.id);
      const fresh = await spawn();
      await untilQueued(client, [to, fresh.id]);
    }
    clearInterval(sampler);
    const fallbackRaw = Math.round(point.fallbackValue / point.scale);
    const fallbackWrites = writes.filter((w) => w.atMs >= heldFromMs && w.device === DEVICE && w.address === point.address && w.values[0] === fallbackRaw).length;
    return heldSection({
      sessionTimeoutMs: negotiatedMs,
      requestedSessionTimeoutMs: SESSION_TIMEOUT_MS,
      pollIntervalMs: POLL_MS,
      windowMs,
      heldPct: HELD_PCT,
      beforeHold: before,
      refresh,
      runs,
      fallbacks: { deviceTimerRanOut: revertsAtMs.filter((t) => t >= heldFromMs).length, samplesOffHold: offSamples.length, fallbackWrites, samples: Math.round((nowMs() - heldFromMs) / SAMPLE_EVERY_MS) },
    });
  } finally {
    clearInterval(sampler);
    await Promise.all([...agents.values()].map((a) => a.child.stop(6000)));
    await site.close();
  }
}

/** The generic inverter's held limit as the profile has it, on a window of `seconds` (a device point replaces the profile's whole). */
function limitPointOnWindow(seconds: number): { raw: Record<string, unknown>; address: number; scale: number; fallbackValue: number } {
  const profile = readProfile('generic-inverter');
  const point = profile.ok ? profile.points.find((p) => p.name === POINT) : undefined;
  const fallback = point?.fallback;
  if (point === undefined || fallback?.revertTimer === undefined || typeof fallback.value !== 'number') {
    throw new Error(`profile generic-inverter has no ${POINT} with a numeric fallback on a revert timer`);
  }
  return {
    raw: { ...point, fallback: { ...fallback, revertTimer: { ...fallback.revertTimer, seconds } } },
    address: point.address,
    scale: point.scale ?? 1,
    fallbackValue: fallback.value,
  };
}

/**
 * The holder alive: from one refresh write to the device to the one REFRESH_INTERVALS later, every
 * write it received, and the holder's counters scraped right after each end.
 */
async function refreshWindow(writes: readonly WriteRecord[], metricsUrl: string): Promise<RefreshWindow> {
  const from = writes.length; // the apply's writes are in: its result came after them
  const nth = (k: number): Promise<WriteRecord> =>
    waitFor(`refresh write ${k} of ${DEVICE}`, () => writes.slice(from).filter((w) => w.device === DEVICE)[k - 1], {
      timeoutMs: k * refreshIntervalMs(WINDOW_S * 1000, POLL_MS) + 10_000,
      intervalMs: 10,
    });
  const start = await nth(1);
  const a = await timedScrape(metricsUrl);
  const end = await nth(1 + REFRESH_INTERVALS);
  const b = await timedScrape(metricsUrl);
  const inWindow = writes.filter((w) => w.device === DEVICE && w.atMs >= start.atMs && w.atMs <= end.atMs);
  const gapsMs = inWindow.slice(1).map((w, i) => w.atMs - (inWindow[i]?.atMs ?? w.atMs));
  const betweenScrapes = writes.filter((w) => w.device === DEVICE && w.atMs >= a.atMs && w.atMs < b.atMs).length;
  const refreshes = (s: Scrape): number => sum(s, 'gridkeeper_setpoint_refreshes_total', { device: DEVICE });
  return {
    ms: end.atMs - start.atMs,
    intervals: inWindow.length - 1,
    addresses: [...new Set(inWindow.map((w) => w.address))],
    gapsMs,
    scrapeMs: b.atMs - a.atMs,
    writesBetweenScrapes: betweenScrapes,
    refreshCounter: refreshes(b.scrape) - refreshes(a.scrape),
    ...busDelta(a.scrape, b.scrape),
  };
}

/** The agent's Modbus requests (one device on the bus) and polls of the device between two scrapes. */
function busDelta(a: Scrape, b: Scrape): { busRequests: number; polls: number } {
  const requests = (s: Scrape): number => sum(s, 'gridkeeper_modbus_requests_total');
  const polls = (s: Scrape): number => sum(s, 'gridkeeper_polls_total', { device: DEVICE });
  return { busRequests: requests(b) - requests(a), polls: polls(b) - polls(a) };
}

async function timedScrape(url: string): Promise<{ atMs: number; scrape: Scrape }> {
  const s = await scrape(url);
  return { atMs: nowMs(), scrape: s };
}

/**
 * SIGKILLs `holder` and waits for its lock node to go (an exists watch on it, as the standby's own)
 * and for the first write of another client to the device.
 */
async function killRun(session: ZkSession, client: SiteClient, writes: readonly WriteRecord[], holder: Agent, to: string, i: number): Promise<HeldRun> {
  const seen = writes.length;
  const holderPeer = writes.filter((w) => w.device === DEVICE).at(-1)?.peer;
  if (holderPeer === undefined) throw new Error(`run ${i + 1}: ${holder.id} never wrote ${DEVICE}`);
  const [lock] = await client.lockQueue();
  if (lock?.agentId !== holder.id) throw new Error(`run ${i + 1}: ${holder.id} does not hold the lock`);
  let lockGoneAtMs: number | null = null;
  const lockPath = client.paths.lockNode(lock.node);
  const watch = (event: string): void => {
    if (event === 'deleted') lockGoneAtMs = nowMs();
    else void session.exists(lockPath, watch).catch(() => undefined); // another event: watch on (a watch fires once)
  };
  if ((await session.exists(lockPath, watch)) === null) throw new Error(`run ${i + 1}: ${lockPath} is gone before the kill`);
  const timeoutMs = 3 * SESSION_TIMEOUT_MS + 10_000;
  const killedAtMs = nowMs();
  holder.child.kill('SIGKILL');
  const [goneAtMs, first] = await Promise.all([
    waitFor(`run ${i + 1}: ${holder.id}'s lock node to go`, () => lockGoneAtMs ?? false, { timeoutMs, intervalMs: 5 }),
    waitFor(`run ${i + 1}: the standby's first write to ${DEVICE}`, () => writes.slice(seen).find((w) => w.device === DEVICE && w.peer !== holderPeer), { timeoutMs, intervalMs: 5 }),
  ]);
  const [leader] = await queuedAgents(client);
  if (leader !== to) throw new Error(`run ${i + 1}: ${to} was next in the lock queue, ${String(leader)} holds it`);
  await holder.child.exited;
  const lastHolderWrite = writes.filter((w) => w.device === DEVICE && w.peer === holderPeer && w.atMs < first.atMs).at(-1);
  return {
    from: holder.id,
    to,
    killToReassertMs: first.atMs - killedAtMs,
    killToLockGoneMs: goneAtMs - killedAtMs,
    lastWriteToReassertMs: lastHolderWrite === undefined ? NaN : first.atMs - lastHolderWrite.atMs,
    holderWritesAfterKill: writes.filter((w) => w.device === DEVICE && w.peer === holderPeer && w.atMs > killedAtMs).length,
    reassertion: { address: first.address, values: first.values },
  };
}
