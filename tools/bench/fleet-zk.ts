// What the fleet bench reads from the ZooKeeper servers themselves: `mntr` figures, the JVM's live
// heap (jcmd: a full GC, then the heap's use), the servers' CPU from /proc, and which server leads.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import type { ZkSession } from '../../src/coordination/index.js';
import type { ZkEnsemble, ZkServer } from '../devtools/zookeeper.js';
import { CpuWindow } from './proc.js';

const execFileP = promisify(execFile);

/** The numeric lines of `mntr` (zk_znode_count, zk_approximate_data_size, zk_proposal_count, ...). */
export async function mntr(server: ZkServer): Promise<Record<string, number>> {
  const text = await server.fourLetter('mntr');
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.split('\t');
    if (key !== undefined && value !== undefined && value.trim() !== '' && Number.isFinite(Number(value))) out[key] = Number(value);
  }
  return out;
}

/**
 * Live heap of a server's JVM, bytes: the total of a class histogram (jcmd GC.class_histogram), which
 * the JVM takes right after a full collection at the same safepoint, so nothing allocated since
 * counts: what the tree, the sessions and the connections hold at that moment.
 */
export async function liveHeapBytes(server: ZkServer): Promise<number> {
  const pid = server.pid;
  if (pid === null) throw new Error(`zookeeper ${server.connectString} is not running`);
  const { stdout } = await execFileP('jcmd', [String(pid), 'GC.class_histogram'], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  const total = /^Total\s+\d+\s+(\d+)\s*$/m.exec(stdout);
  if (total === null) throw new Error(`jcmd GC.class_histogram of ${pid}: no Total line`);
  return Number(total[1]);
}

/**
 * Live heap of every server, bytes, after flushCommittedLog: the mean of `samples` readings each. Even
 * an idle server's live heap moves by a few hundred KB between two readings (its quorum pings every
 * tick, its sessions' pings): what is weighed must be large beside that (thousands of znodes, hundreds
 * of sessions), and several readings average it down.
 */
export async function ensembleHeap(ensemble: ZkEnsemble, session: ZkSession, samples = 2): Promise<number[]> {
  await flushCommittedLog(session);
  const sums = ensemble.servers.map(() => 0);
  for (let k = 0; k < samples; k++) {
    for (const [i, s] of ensemble.servers.entries()) sums[i] = (sums[i] ?? 0) + (await liveHeapBytes(s));
  }
  return sums.map((sum) => sum / samples);
}

/** ZooKeeper's zookeeper.commitLogCount default: the last proposals every server keeps in its heap. */
const COMMITTED_LOG_PROPOSALS = 500;

/**
 * Every server keeps its last 500 transactions in memory (for a fast sync of a follower that fell
 * behind), whatever their size: a heap comparison must not see which ones those were. Pushes them
 * out with tiny writes, so that before and after hold the same 500 one-byte sets.
 */
export async function flushCommittedLog(session: ZkSession): Promise<void> {
  const node = '/bench-flush';
  await session.create(node, Buffer.alloc(0), 'persistent').catch(() => undefined);
  const one = Buffer.from('x');
  for (let i = 0; i < COMMITTED_LOG_PROPOSALS + 100; i += 50) await Promise.all(Array.from({ length: 50 }, () => session.set(node, one)));
}

/** CPU of the three JVMs over a window: stop() gives the cores they kept busy together. */
export class EnsembleCpu {
  private readonly windows: CpuWindow[];

  constructor(ensemble: ZkEnsemble) {
    this.windows = ensemble.servers.flatMap((s) => (s.pid === null ? [] : [new CpuWindow(s.pid)]));
  }

  /** Cores busy, summed over the servers (1.0 = one core all the time). */
  stop(): number {
    return this.windows.reduce((sum, w) => sum + w.stop().coreShare, 0);
  }
}

/** Load average (1 min) of the machine now: how much else ran beside the bench. */
export function loadNow(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}
