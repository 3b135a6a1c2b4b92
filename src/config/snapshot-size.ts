// How large the readings snapshot of a site could grow. The snapshot is one znode, and ZooKeeper
// refuses a znode over about 1 MB (jute.maxbuffer, 0xfffff bytes by default), so a config whose
// snapshot could exceed that would fail at run time, on the first publish with long values.
import type { PointConfig, SiteConfig } from './types.js';

/** Largest snapshot accepted, bytes: below ZooKeeper's 1,048,575-byte default, leaving room for the request. */
export const MAX_SNAPSHOT_BYTES = 1_000_000;

// Widest JSON of each part, characters (the snapshot is ASCII apart from string values):
const NUMBER_CHARS = 24;          // -1.2345678901234567e+308
const ERROR_TEXT_CHARS = 200;     // a device's `error` message
const TIMESTAMP_CHARS = 26;       // "2026-11-25T10:00:00.950Z"
const SEQ_CHARS = 16;             // Number.MAX_SAFE_INTEGER
const SNAPSHOT_FRAME_CHARS = 110; // {"site":,"agentId":,"seq":,"publishedAt":,"leader":false,"devices":{}}
const DEVICE_FRAME_CHARS = 70;    // "":{"kind":"","status":"pending","readAt":,"values":{},"error":}
// A SunSpec device's points are found at run time. A large one (models 1, 103, 120, 121, 123, 124,
// 160 with 4 modules, 701, 702, 704, 802 and the standard names) publishes about 450 values, 18000
// characters with every value at its widest: about 55 such devices fit on one site.
const SUNSPEC_DEVICE_CHARS = 18_000;

/** Upper estimate of the readings snapshot's JSON size in bytes, every point at its widest value. */
export function estimateSnapshotBytes(cfg: Pick<SiteConfig, 'site' | 'agent' | 'devices'>): number {
  let bytes = SNAPSHOT_FRAME_CHARS + cfg.site.length + cfg.agent.id.length + SEQ_CHARS + TIMESTAMP_CHARS;
  for (const d of cfg.devices) {
    bytes += DEVICE_FRAME_CHARS + d.id.length + d.kind.length + TIMESTAMP_CHARS + ERROR_TEXT_CHARS;
    if (d.sunspec !== undefined) bytes += SUNSPEC_DEVICE_CHARS;
    for (const p of d.points) bytes += p.name.length + 4 /* "": , */ + valueChars(p);
  }
  return bytes;
}

function valueChars(p: PointConfig): number {
  if (p.type === 'bool') return 5; // false
  if (p.type === 'string') return (p.length ?? 0) * 2 + 2; // two characters per register, quoted
  return NUMBER_CHARS;
}
