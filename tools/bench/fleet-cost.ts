// A site's cost to the ensemble, from ZooKeeper's own data: its transactions and their bytes in a time
// window of the transaction log (txn-log.ts), and what its subtree holds now (znodes, and bytes the way
// `mntr`'s zk_approximate_data_size counts them: path length plus data length of every node).
import type { ZkSession } from '../../src/coordination/index.js';
import { TXN_TYPE, type Txn } from './txn-log.js';

export interface SiteWrites {
  /** Transactions under the site (creates, sets, deletes, ACLs), and of its sessions. */
  txns: number;
  /** Their bytes in the transaction log. */
  bytes: number;
  /** setData of readings/<agent>: the snapshots. */
  snapshots: number;
  snapshotBytes: number;
}

const empty = (): SiteWrites => ({ txns: 0, bytes: 0, snapshots: 0, snapshotBytes: 0 });

/**
 * Transactions with `fromMs <= time < toMs` (the leader's clock), by site. A session's own
 * transactions (create, close) count for the site its other transactions name; those of sessions
 * that wrote nothing under a site go to `other`.
 */
export function writesBySite(txns: readonly Txn[], fromMs: number, toMs: number, root = '/gridkeeper'): { sites: Map<string, SiteWrites>; other: SiteWrites } {
  const prefix = `${root}/sites/`;
  const siteOf = (p: string): string | null => (p.startsWith(prefix) ? (p.slice(prefix.length).split('/')[0] ?? null) : null);
  const sessionSite = new Map<bigint, string>();
  for (const t of txns) {
    const site = t.paths.map(siteOf).find((s) => s !== null);
    if (site !== undefined && site !== null) sessionSite.set(t.clientId, site);
  }
  const sites = new Map<string, SiteWrites>();
  const other = empty();
  for (const t of txns) {
    if (t.timeMs < fromMs || t.timeMs >= toMs) continue;
    const site = t.paths.map(siteOf).find((s) => s !== null) ?? sessionSite.get(t.clientId) ?? null;
    let w = other;
    if (site !== null) {
      w = sites.get(site) ?? empty();
      sites.set(site, w);
    }
    w.txns++;
    w.bytes += t.bytes;
    if (t.type === TXN_TYPE.setData && site !== null && t.paths[0]?.startsWith(`${prefix}${site}/readings/`)) {
      w.snapshots++;
      w.snapshotBytes += t.bytes;
    }
  }
  return { sites, other };
}

export interface SiteTree {
  znodes: number;
  /** Σ path length + data length, as zk_approximate_data_size. */
  bytes: number;
  results: number;
  /** Data bytes of the readings snapshots (each agent's). */
  snapshotBytes: number[];
}

/** Walks `sitePath` and everything below it. */
export async function siteTree(session: ZkSession, sitePath: string): Promise<SiteTree> {
  const tree: SiteTree = { znodes: 0, bytes: 0, results: 0, snapshotBytes: [] };
  const walk = async (p: string): Promise<void> => {
    let node: { data: Buffer };
    let children: string[];
    try {
      node = await session.get(p);
      children = await session.getChildren(p);
    } catch {
      return; // gone meanwhile (a pruned result, a closed session's node)
    }
    tree.znodes++;
    tree.bytes += Buffer.byteLength(p) + node.data.length;
    if (p.startsWith(`${sitePath}/results/`)) tree.results++;
    if (p.startsWith(`${sitePath}/readings/`)) tree.snapshotBytes.push(node.data.length);
    for (const c of children) await walk(`${p}/${c}`);
  };
  await walk(sitePath);
  return tree;
}
