// What this ensemble can take at most, and what a znode costs its heap:
//  - a plain write load: setData of snapshot-sized znodes by several sessions with many requests in
//    flight, as fast as the servers commit them (every write goes through the leader and a quorum);
//  - heap per znode: the servers' live heap before and after creating a batch of result-shaped znodes
//    (the same data and path length as a real result), divided by the batch; both taken with the same
//    tiny writes as the servers' last 500 transactions (fleet-zk.ts, flushCommittedLog);
//  - heap per session: the same around opening a batch of sessions that each watch a few znodes as an
//    agent does (its agent and readings nodes, its lock predecessor, commands/).
import { pino } from 'pino';
import { connectSession, type ZkSession } from '../../src/coordination/index.js';
import type { ZkEnsemble } from '../devtools/zookeeper.js';
import { EnsembleCpu, ensembleHeap } from './fleet-zk.js';
import { summarize, type Summary } from './stats.js';

export interface WriteCapacity {
  writesPerSecond: number;
  bytesPerWrite: number;
  latencyMs: Summary;
  /** Cores the three servers kept busy together during the load. */
  serversCores: number;
  /** Cores this process (the load generator) kept busy. */
  generatorCores: number;
  sessions: number;
  inFlight: number;
}

/**
 * `sessions` × `lanesPerSession` writers, each setting its own znode of `bytes` bytes again as soon
 * as the last set returned, for `durationMs`.
 */
export async function writeCapacity(ensemble: ZkEnsemble, bytes: number, opts: { sessions: number; lanesPerSession: number; durationMs: number }): Promise<WriteCapacity> {
  const logger = pino({ level: 'silent' });
  const sessions: ZkSession[] = [];
  const parent = '/bench-capacity';
  const data = Buffer.alloc(bytes, 'x');
  try {
    for (let i = 0; i < opts.sessions; i++) {
      sessions.push(await connectSession({ connect: ensemble.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 30_000 }, { logger }));
    }
    const first = sessions[0];
    if (first === undefined) throw new Error('no session');
    await first.create(parent, Buffer.alloc(0), 'persistent').catch(() => undefined);
    const lanes = sessions.flatMap((s, i) => Array.from({ length: opts.lanesPerSession }, (_, j) => ({ session: s, path: `${parent}/n-${i}-${j}` })));
    for (const lane of lanes) await lane.session.create(lane.path, data, 'persistent');
    const latencies: number[] = [];
    let done = 0;
    const cpu = new EnsembleCpu(ensemble);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const end = t0 + opts.durationMs;
    await Promise.all(
      lanes.map(async (lane) => {
        while (performance.now() < end) {
          const s = performance.now();
          await lane.session.set(lane.path, data);
          latencies.push(performance.now() - s);
          done++;
        }
      }),
    );
    const wallS = (performance.now() - t0) / 1000;
    const serversCores = cpu.stop();
    const used = process.cpuUsage(cpu0);
    for (const lane of lanes) await lane.session.delete(lane.path);
    await first.delete(parent);
    return {
      writesPerSecond: done / wallS,
      bytesPerWrite: bytes,
      latencyMs: summarize(latencies),
      serversCores,
      generatorCores: (used.user + used.system) / 1e6 / wallS,
      sessions: opts.sessions,
      inFlight: lanes.length,
    };
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
  }
}

export interface HeapPerZnode {
  /** Median over the servers of (live heap after - before) / count, bytes. */
  bytesPerZnode: number;
  perServer: number[];
  count: number;
  dataBytes: number;
  pathBytes: number;
}

/** Creates `count` znodes of `data` named like results (`cmd-<10 digits>`) under a path as long as `likePath`'s parent. */
export async function heapPerZnode(ensemble: ZkEnsemble, session: ZkSession, data: Buffer, likePath: string, count: number): Promise<HeapPerZnode> {
  // One node whose path is as long as the real results' parent (paths are held in the heap too).
  const parent = `/h${'x'.repeat(Math.max(1, likePath.lastIndexOf('/') - 2))}`;
  const before = await ensembleHeap(ensemble, session);
  await session.create(parent, Buffer.alloc(0), 'persistent');
  const made: string[] = [];
  try {
    // In batches of 200 in flight: fast, without flooding the client's queue.
    for (let i = 0; i < count; i += 200) {
      const batch = Array.from({ length: Math.min(200, count - i) }, (_, k) => `${parent}/cmd-${String(i + k).padStart(10, '0')}`);
      await Promise.all(batch.map((p) => session.create(p, data, 'persistent')));
      made.push(...batch);
    }
    const after = await ensembleHeap(ensemble, session);
    const perServer = after.map((a, i) => (a - (before[i] ?? a)) / count);
    const sorted = [...perServer].sort((a, b) => a - b);
    return {
      bytesPerZnode: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
      perServer,
      count,
      dataBytes: data.length,
      pathBytes: Buffer.byteLength(made[0] ?? ''),
    };
  } finally {
    for (let i = 0; i < made.length; i += 200) await Promise.all(made.slice(i, i + 200).map((p) => session.delete(p)));
    await session.delete(parent);
  }
}

export interface HeapPerSession {
  /** (Σ over the servers of live heap after - before) / count: what one session costs the ensemble, bytes. */
  bytesPerSession: number;
  count: number;
  watchesPerSession: number;
}

const WATCHES_PER_SESSION = 4;

/** Opens `count` sessions, each with WATCHES_PER_SESSION watches, and weighs them. */
export async function heapPerSession(ensemble: ZkEnsemble, admin: ZkSession, count: number): Promise<HeapPerSession> {
  const logger = pino({ level: 'silent' });
  const parent = '/bench-sessions';
  await admin.create(parent, Buffer.alloc(0), 'persistent').catch(() => undefined);
  const before = await ensembleHeap(ensemble, admin);
  const sessions: ZkSession[] = [];
  try {
    for (let i = 0; i < count; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, count - i) }, () => connectSession({ connect: ensemble.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 30_000 }, { logger })),
      );
      sessions.push(...batch);
    }
    await Promise.all(sessions.map((s, i) => Promise.all(Array.from({ length: WATCHES_PER_SESSION }, (_, w) => s.exists(`${parent}/s-${i}-w-${w}`, () => undefined)))));
    const after = await ensembleHeap(ensemble, admin);
    const total = after.reduce((sum, a, i) => sum + a - (before[i] ?? a), 0);
    return { bytesPerSession: total / count, count, watchesPerSession: WATCHES_PER_SESSION };
  } finally {
    await Promise.all(sessions.map((s) => s.close()));
    await admin.delete(parent).catch(() => undefined);
  }
}
