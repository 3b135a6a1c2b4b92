// The site document as the agent writes it for a push (in pieces) and for GET /api/site (with the
// history), from plain sources: the pieces must join into exactly what JSON.stringify writes, and
// the site view must carry only what the page shows.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { DeviceReading } from '../../src/agent/device-state.js';
import { ReadingsHistory } from '../../src/agent/point-history.js';
import { PointUnits } from '../../src/agent/point-units.js';
import { SiteDocuments, trimForPage } from '../../src/agent/site-page/site-document.js';
import { SiteViewCache } from '../../src/agent/site-page/site-view-cache.js';
import { systemClock } from '../../src/clock.js';
import { parseConfig } from '../../src/config/load.js';
import type { SiteView } from '../../src/coordination/site-view.js';

const DEVICES = 123; // a few pieces of 50, the last one short
const config = parseConfig(
  `
site: s
agent: { id: gw-a }
zookeeper: { connect: "127.0.0.1:2181" }
http: { listen: "127.0.0.1:0" }
buses:
${Array.from({ length: Math.ceil(DEVICES / 10) }, (_, b) => `  - { id: gw-${b}, type: tcp, host: 127.0.0.1, port: ${1502 + b}, timeoutMs: 200 }`).join('\n')}
devices:
${Array.from({ length: DEVICES }, (_, i) => `  - { id: dev-${i + 1}, kind: bms, bus: gw-${Math.floor(i / 10)}, unitId: ${(i % 10) + 1}, profile: generic-bms }`).join('\n')}
`,
  'site-document.yaml',
);

const readings: Record<string, DeviceReading> = Object.fromEntries(
  config.devices.map((d, i): [string, DeviceReading] => [
    d.id,
    i % 10 === 3
      ? { kind: 'bms', status: 'error', readAt: '2026-11-25T12:00:00.000Z', values: { stateOfCharge: 50 }, error: 'timeout after 500 ms "quoted"\nline' }
      : { kind: 'bms', status: 'ok', readAt: '2026-11-25T12:00:01.250Z', values: { stateOfCharge: 55.5 + i, temperatureMin: -3.25, cycleCount: i, alarm: false, nothing: null }, error: null },
  ]),
);

/** A site of two agents: this one (gw-a) with its devices, and gw-b with one device of its own. */
const view: SiteView = {
  site: 's',
  root: '/gridkeeper',
  readAt: '2026-11-25T12:00:01.000Z',
  agents: [
    { agentId: 'gw-a', document: { host: 'a', pid: 1 }, readings: { seq: 7, publishedAt: '2026-11-25T12:00:00.500Z', leader: true, devices: readings } },
    {
      agentId: 'gw-b',
      document: { host: 'b', pid: 2 },
      readings: { seq: 3, publishedAt: '2026-11-25T11:59:59.000Z', leader: false, devices: { 'pump-1': { kind: 'pump', status: 'ok' } } },
    },
  ],
  conflicts: [],
  lock: { holder: 'gw-a', node: 'lock-0000000001', token: '0x1', since: '2026-11-25T11:00:00.000Z', waiters: ['gw-b'] },
  devices: {
    'dev-1': { kind: 'bms', status: 'ok', readAt: null, values: {}, error: null, publishedBy: 'gw-a' },
    'pump-1': { kind: 'pump', status: 'ok', readAt: '2026-11-25T11:59:58.000Z', values: { flow: 3 }, error: null, publishedBy: 'gw-b' },
  },
  pendingCommands: [],
  recentResults: [{ id: 'cmd-0000000001', result: { status: 'applied' } }],
  setpoints: [],
  fallbacks: {},
};

async function documents(): Promise<SiteDocuments> {
  const cache = new SiteViewCache({
    read: () => Promise.resolve(trimForPage(view, config.devices)),
    sessionState: () => 'connected',
    clock: systemClock,
    logger: pino({ level: 'silent' }),
  });
  await cache.fresh(1000);
  const history = new ReadingsHistory({ readings: () => readings, clock: systemClock });
  history.start();
  history.close();
  return new SiteDocuments({
    site: config.site,
    agentId: config.agent.id,
    devices: config.devices,
    health: () => ({ status: 'degraded', zookeeper: 'connected', leader: true, devices: {}, clockOffsetMs: null, stalled: false }),
    token: () => '0x1',
    sessionState: () => 'connected',
    readings: () => readings,
    statusLine: () => '',
    units: new PointUnits(config.devices, new Map()),
    history,
    view: cache,
    clock: systemClock,
  });
}

describe('SiteDocuments', () => {
  it('writes a push in pieces of at most 50 devices that join into exactly what JSON.stringify writes', async () => {
    const docs = await documents();
    const pieces = docs.textPieces();
    expect(pieces.length).toBe(2 * Math.ceil(DEVICES / 50) + 3);
    const text = pieces.join('');
    const doc = JSON.parse(text) as Record<string, unknown>;
    // Re-stringifying the parsed document gives JSON.stringify's own text: same keys, order and escapes.
    expect(JSON.stringify(doc)).toBe(text);
    expect(Object.keys(doc)).toEqual(['site', 'agentId', 'generatedAt', 'agent', 'readings', 'devices', 'siteView']);
    expect(Object.keys((doc.readings as { devices: object }).devices)).toHaveLength(DEVICES);
    expect(Object.keys(doc.devices as object)).toHaveLength(DEVICES);
  });

  it('with the history, the pieces make one JSON document that ends in the charts', async () => {
    const docs = await documents();
    const doc = JSON.parse(docs.chunksWithHistory().join('')) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['site', 'agentId', 'generatedAt', 'agent', 'readings', 'devices', 'siteView', 'history']);
    expect(Object.keys((doc.history as { devices: object }).devices)).toHaveLength(DEVICES);
  });

  it("keeps of the site view what the page shows: agents without their readings, and only other agents' devices", async () => {
    const docs = await documents();
    const doc = JSON.parse(docs.text()) as { siteView: { view: SiteView } };
    const v = doc.siteView.view;
    expect(v.agents).toEqual([
      { agentId: 'gw-a', document: { host: 'a', pid: 1 }, readings: { seq: 7, publishedAt: '2026-11-25T12:00:00.500Z', leader: true } },
      { agentId: 'gw-b', document: { host: 'b', pid: 2 }, readings: { seq: 3, publishedAt: '2026-11-25T11:59:59.000Z', leader: false } },
    ]);
    expect(Object.keys(v.devices)).toEqual(['pump-1']);
    expect(v.lock).toEqual(view.lock);
    expect(v.recentResults).toEqual(view.recentResults);
  });
});
