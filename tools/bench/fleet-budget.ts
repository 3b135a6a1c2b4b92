// From the fleet bench's measurements to memory per site and sites per ensemble, with every assumption
// named next to the number it makes. Pure.
import type { HeapPerSession, HeapPerZnode, WriteCapacity } from './fleet-capacity.js';
import type { SiteTree } from './fleet-cost.js';
import type { VariantWrites } from './fleet-run.js';

/** Share of the measured write capacity a fleet may use in normal operation. */
export const WRITE_HEADROOM = 0.5;
/** Commands per site and minute the estimate assumes (an EMS adjusting limits once a minute). */
export const COMMANDS_PER_SITE_MINUTE = 1;
/** Transactions per command with credentials: its create and ACL, its result's create and ACL, its delete. */
export const TXNS_PER_COMMAND = 5;
/** Heap a production server gives the data tree: half of a 2 GB heap. */
export const TREE_HEAP_BYTES = 1024 ** 3;
export const DEFAULT_RESULTS_KEPT = 1000;
/** Sessions of a site: its two agents. */
export const SESSIONS_PER_SITE = 2;
const SERVERS = 3;

export interface SiteMemory {
  /** Heap per znode besides its path and data (the node object, its stat, map entries), bytes. */
  overheadPerZnode: number;
  /** Heap of one result znode (path, data and overhead), bytes. */
  perResult: number;
  /** A site's tree without results: znodes × overhead + path and data bytes (on every server). */
  idleTree: number;
  /** Its agents' sessions, per server on average (a session lives on the server it is connected to, and the leader tracks it). */
  sessions: number;
  /** What an idle site costs each server: tree and sessions. */
  idleSite: number;
}

export function siteMemory(tree: SiteTree, heap: HeapPerZnode, session: HeapPerSession): SiteMemory {
  const overheadPerZnode = heap.bytesPerZnode - heap.dataBytes - heap.pathBytes;
  const idleTree = tree.znodes * overheadPerZnode + tree.bytes;
  const sessions = (SESSIONS_PER_SITE * session.bytesPerSession) / SERVERS;
  return { overheadPerZnode, perResult: heap.bytesPerZnode, idleTree, sessions, idleSite: idleTree + sessions };
}

export interface SitesPerEnsemble {
  /** Transactions per site and second: the quiet cost plus the assumed commands. */
  txnsPerSite: number;
  writeBudget: number;
  byWrites: number;
  /** With the results a site holds in the case named. */
  byMemory: number;
  sites: number;
  limitedBy: 'writes' | 'memory';
}

export function sitesPerEnsemble(writes: VariantWrites, capacity: WriteCapacity, memoryPerSite: number): SitesPerEnsemble {
  const txnsPerSite = writes.txns + (COMMANDS_PER_SITE_MINUTE / 60) * TXNS_PER_COMMAND;
  const writeBudget = capacity.writesPerSecond * WRITE_HEADROOM;
  const byWrites = Math.floor(writeBudget / txnsPerSite);
  const byMemory = Math.floor(TREE_HEAP_BYTES / memoryPerSite);
  return { txnsPerSite, writeBudget, byWrites, byMemory, sites: Math.min(byWrites, byMemory), limitedBy: byWrites <= byMemory ? 'writes' : 'memory' };
}
