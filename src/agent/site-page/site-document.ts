// The document behind the site page and GET /api/site (CONTRACT.md section 9): this agent's readings
// (live, as the next snapshot would carry them: no ZooKeeper needed) plus the site view (agents, lock,
// pending commands, results, held setpoints: from ZooKeeper, cached), plus what the page needs to
// draw them: units, poll intervals, the ages of the readings and the charts' recent past.
//
// Ages are computed here, by the agent's clock, and `generatedAt` says when: a phone whose clock is
// minutes off still shows the right "3 s ago" (it adds only the time since it received the document).
// The agent's clock is its one wall clock (CorrectedClock): the local one corrected by ZooKeeper's,
// the clock its readAt, other agents' publishedAt, results and setpoints are stamped by, so ages of
// all of them agree even when the gateway's own clock is a year off (agent.clockOffsetMs says so).
import type { Clock } from '../../clock.js';
import type { DeviceConfig } from '../../config/types.js';
import type { SessionState } from '../../coordination/session.js';
import type { SiteView } from '../../coordination/site-view.js';
import type { DeviceReading } from '../device-state.js';
import type { Health } from '../http.js';
import type { DeviceHistoryJson, ReadingsHistory } from '../point-history.js';
import type { PointUnits } from '../point-units.js';
import { SITE_VIEW_MAX_AGE_MS, type CachedSiteView, type SiteViewCache } from './site-view-cache.js';

/** What the page document is made of; the agent hands these in. */
export interface SiteSources {
  site: string;
  agentId: string;
  devices: readonly DeviceConfig[];
  health(): Health;
  /** Our fencing token while we hold the lock, else null. */
  token(): string | null;
  sessionState(): SessionState;
  readings(): Record<string, DeviceReading>;
  /** Every device's status and error as one string that changes when any of them does (ModbusSide.statusLine). */
  statusLine(): string;
  units: PointUnits;
  history: ReadingsHistory;
  view: SiteViewCache;
  clock: Clock;
}

/** An agent of the site view without its readings' devices (the page shows the devices once, below). */
export interface AgentSummary {
  agentId: string;
  document: Record<string, unknown> | null;
  readings: { seq: unknown; publishedAt: unknown; leader: unknown } | null;
}

/**
 * The site view as the page needs it: agents without their readings, and `devices` only those this
 * agent does not poll (another agent's); its own are in `readings`, as read now rather than as last
 * published, and would only make every push twice their size.
 */
export type PageSiteView = Omit<SiteView, 'agents'> & { agents: AgentSummary[] };

export interface SiteDocument {
  site: string;
  agentId: string;
  /** When this document was made, by the agent's (ZooKeeper-corrected) clock (ISO 8601). */
  generatedAt: string;
  agent: {
    status: Health['status'];
    zookeeper: SessionState;
    leader: boolean;
    token: string | null;
    stalled: boolean;
    duplicateOf: Health['duplicateOf'] | null;
    /** As /healthz: ZooKeeper's clock minus the local one, ms; null until known. generatedAt and every age here are corrected by it. */
    clockOffsetMs: number | null;
  };
  /** This agent's readings snapshot (CONTRACT.md section 3) as it stands now, without seq and publishedAt. */
  readings: { site: string; agentId: string; leader: boolean; devices: Record<string, DeviceReading> };
  /** Per configured device: its bus, poll interval, the age of its values (ms, null before the first good poll) and units by point. */
  devices: Record<string, { bus: string; pollIntervalMs: number; ageMs: number | null; units: Record<string, string> }>;
  /** The site as ZooKeeper sees it, as last read (null before the first read), its age (ms) and why it is not newer. */
  siteView: { view: PageSiteView | null; ageMs: number | null; error: string | null; refreshMs: number };
  /**
   * Samples of the numeric points: one per device per `sampleMs` at most, the last `windowMs`, in
   * base64 (point-history.ts DeviceHistoryJson). Only in a full document (chunksWithHistory()).
   */
  history?: { sampleMs: number; windowMs: number; devices: Record<string, DeviceHistoryJson> };
}

export class SiteDocuments {
  /** Units as plain objects, remade only when a device's units change (SunSpec rediscovery). */
  private readonly unitObjects = new WeakMap<ReadonlyMap<string, string>, Record<string, string>>();

  constructor(private readonly src: SiteSources) {}

  /** The document as JSON text, without the charts' history. */
  text(): string {
    return this.textPieces().join('');
  }

  /**
   * text() in pieces to be written one after the other (the pushes of a stream): a piece holds at
   * most DEVICES_PER_PIECE devices, so that at 500 devices a push is a dozen pieces of tens of KB
   * instead of one string and one buffer of 400 KB. Objects that large are given fresh pages by V8
   * and by malloc every time, and each of the hundred page faults a push then took is a trip through
   * the hypervisor on a virtual gateway.
   */
  textPieces(): string[] {
    return jsonPieces(this.assemble(this.src.view.current()));
  }

  /**
   * The document with the charts' history, as JSON text in pieces to be written one after the other
   * (the first event of a stream).
   */
  chunksWithHistory(): readonly string[] {
    return this.withHistory(this.src.view.current());
  }

  /** As chunksWithHistory(), after waiting up to `waitMs` for a site view refresh (GET /api/site). */
  async chunksWithHistoryFresh(waitMs: number): Promise<readonly string[]> {
    return this.withHistory(await this.src.view.fresh(waitMs));
  }

  private withHistory(cached: CachedSiteView): readonly string[] {
    const pieces = jsonPieces(this.assemble(cached));
    const last = pieces.pop() ?? '{}';
    const { history } = this.src;
    // The history goes in as the pieces ReadingsHistory keeps (made once per sample, not per client).
    return [
      ...pieces,
      `${last.slice(0, -1)},"history":{"sampleMs":${history.sampleMs},"windowMs":${history.windowMs},"devices":`,
      ...history.toJsonChunks(),
      '}}',
    ];
  }

  /**
   * What changes the page beyond values and ages: session, leadership, device status and errors,
   * a new site view. A stream pushes at once when it changes.
   */
  signature(): string {
    const health = this.src.health();
    return `${health.zookeeper}\u0000${health.leader}\u0000${health.stalled}\u0000${this.src.view.current().view?.readAt ?? ''}\u0000${this.src.statusLine()}`;
  }

  private assemble(cached: CachedSiteView): SiteDocument {
    const { src } = this;
    const nowMs = src.clock.nowMs();
    const health = src.health();
    const readings = src.readings();
    const devices: SiteDocument['devices'] = {};
    for (const d of src.devices) {
      const readAt = readings[d.id]?.readAt ?? null;
      const readAtMs = readAt === null ? NaN : Date.parse(readAt);
      devices[d.id] = {
        bus: d.bus,
        pollIntervalMs: d.pollIntervalMs,
        ageMs: Number.isFinite(readAtMs) ? Math.max(0, Math.round(nowMs - readAtMs)) : null,
        units: this.unitsObject(src.units.of(d.id)),
      };
    }
    const doc: SiteDocument = {
      site: src.site,
      agentId: src.agentId,
      generatedAt: new Date(nowMs).toISOString(),
      agent: {
        status: health.status,
        zookeeper: src.sessionState(),
        leader: health.leader,
        token: src.token(),
        stalled: health.stalled,
        duplicateOf: health.duplicateOf ?? null,
        clockOffsetMs: health.clockOffsetMs,
      },
      readings: { site: src.site, agentId: src.agentId, leader: health.leader, devices: readings },
      devices,
      siteView: {
        view: cached.view === null ? null : pageView(cached.view, devices),
        ageMs: cached.ageMs === null ? null : Math.round(cached.ageMs),
        error: cached.error,
        refreshMs: SITE_VIEW_MAX_AGE_MS,
      },
    };
    return doc;
  }

  private unitsObject(units: ReadonlyMap<string, string>): Record<string, string> {
    let obj = this.unitObjects.get(units);
    if (obj === undefined) {
      obj = Object.fromEntries(units);
      this.unitObjects.set(units, obj);
    }
    return obj;
  }
}

/** Devices per piece of a document's text (see textPieces()): about 40 KB at the generic profiles. */
const DEVICES_PER_PIECE = 50;

/** JSON.stringify(doc), in pieces: the same text once joined. */
function jsonPieces(doc: SiteDocument): string[] {
  const { readings, devices, siteView, ...head } = doc;
  const { devices: byDevice, ...readingsHead } = readings;
  const out = [`${JSON.stringify(head).slice(0, -1)},"readings":${JSON.stringify(readingsHead).slice(0, -1)},"devices":{`];
  pushMembers(out, byDevice);
  out.push('}},"devices":{');
  pushMembers(out, devices);
  out.push(`},"siteView":${JSON.stringify(siteView)}}`);
  return out;
}

/** The members of `record` as JSON without its braces, DEVICES_PER_PIECE to a piece; pieces after the first start with a comma. */
function pushMembers(out: string[], record: Readonly<Record<string, unknown>>): void {
  const entries = Object.entries(record);
  for (let i = 0; i < entries.length; i += DEVICES_PER_PIECE) {
    const json = JSON.stringify(Object.fromEntries(entries.slice(i, i + DEVICES_PER_PIECE)));
    out.push(`${i === 0 ? '' : ','}${json.slice(1, -1)}`);
  }
}

function pageView(view: SiteView, ours: Readonly<Record<string, unknown>>): PageSiteView {
  const devices: SiteView['devices'] = {};
  for (const [id, device] of Object.entries(view.devices)) if (!Object.hasOwn(ours, id)) devices[id] = device;
  return { ...view, devices, agents: view.agents.map(agentSummary) };
}

function agentSummary(a: SiteView['agents'][number]): AgentSummary {
  return {
    agentId: a.agentId,
    document: a.document,
    readings: a.readings === null ? null : { seq: a.readings.seq, publishedAt: a.readings.publishedAt, leader: a.readings.leader },
  };
}

/**
 * A site view cut to what the page shows (PageSiteView), for the cache to keep between refreshes:
 * the whole view holds every agent's readings snapshot, parsed, and the freshest reading of every
 * device (megabytes of objects at 500 devices, read anew every 2 s) that no page ever shows.
 */
export function trimForPage(view: SiteView, ownDevices: readonly { id: string }[]): SiteView {
  const own: Record<string, true> = {};
  for (const d of ownDevices) own[d.id] = true;
  return pageView(view, own);
}
