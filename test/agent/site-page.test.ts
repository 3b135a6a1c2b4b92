// The site page of an Agent in-process, against a real ZooKeeper and the real simulator (a generic
// inverter and a SunSpec PV inverter on one Modbus TCP bus): GET /api/site, the page and its files,
// the per-point metrics, and the HTTP server against bad clients (51 event streams, a client that
// never reads, malformed requests, a long URL, headers too large, a stalled request, unknown paths
// and methods) while the agent's own poll-lateness histogram shows polling unaffected.
import http from 'node:http';
import net from 'node:net';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import { PAGE_SCRIPT } from '../../src/agent/site-page/page-script.js';
import { parseConfig } from '../../src/config/load.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { freePort } from '../../tools/devtools/ports.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { zooKeeperSuite } from '../helpers/zookeeper-suite.js';

const silent = pino({ level: 'silent' });
const POLL_MS = 200;
const suite = zooKeeperSuite();
const { toClose } = suite;


/** A leading agent of `site` with inv-1 (generic-inverter) and pv-1 (SunSpec), both polled; its HTTP port. */
async function runningSite(site: string): Promise<{ agent: Agent; port: number; base: string }> {
  const modbusPort = await freePort();
  const yaml = (agentId: string, listen: string): string => `
site: ${site}
agent: { id: ${agentId} }
zookeeper: { connect: "${suite.zk.connectString}", sessionTimeoutMs: 4000 }
publish: { intervalMs: 100 }
http: { listen: ${listen} }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: ${modbusPort}, timeoutMs: 500 }
devices:
  - { id: inv-1, kind: inverter, bus: lan, unitId: 1, profile: generic-inverter, pollIntervalMs: ${POLL_MS} }
  - { id: pv-1, kind: inverter, bus: lan, unitId: 3, profile: sunspec, pollIntervalMs: ${POLL_MS} }
`;
  const sim = new SimulatedSite(parseConfig(yaml('simulator', 'false'), `${site}-sim.yaml`), { logger: silent, ...frozenOptions() });
  await sim.start();
  toClose.push(sim);
  const port = await freePort();
  const agent = new Agent(parseConfig(yaml('gw-a', `"127.0.0.1:${port}"`), `${site}-gw-a.yaml`), { logger: silent, version: 'test' });
  await agent.start();
  toClose.push(agent);
  await waitFor('leader, both devices ok', () => agent.isLeader && Object.values(agent.readings()).every((r) => r.status === 'ok'), { timeoutMs: 15_000 });
  return { agent, port, base: `http://127.0.0.1:${port}` };
}

async function operator(site: string): Promise<SiteClient> {
  const client = await SiteClient.open({ connect: suite.zk.connectString, site }, { logger: silent });
  toClose.push(client);
  return client;
}

interface SiteDoc {
  site: string;
  agentId: string;
  generatedAt: string;
  agent: { zookeeper: string; leader: boolean; token: string | null; status: string };
  readings: { leader: boolean; devices: Record<string, { status: string; readAt: string | null; values: Record<string, unknown> }> };
  devices: Record<string, { bus: string; pollIntervalMs: number; ageMs: number | null; units: Record<string, string> }>;
  siteView: {
    view: {
      lock: { holder: string | null; token: string | null };
      agents: Array<{ agentId: string; readings: Record<string, unknown> | null }>;
      recentResults: Array<{ id: string; result: Record<string, unknown> }>;
      setpoints: unknown[];
    } | null;
    ageMs: number | null;
    error: string | null;
  };
  history?: { sampleMs: number; windowMs: number; devices: Record<string, { n: number; points: string[]; data: string }> };
}

/** One device's history decoded: n float64 times, then n float32 values per point (NaN as null). */
function decodeHistory(h: { n: number; points: string[]; data: string }): { t: number[]; points: Record<string, Array<number | null>> } {
  const bytes = Buffer.from(h.data, 'base64');
  expect(bytes.length).toBe(h.n * 8 + h.points.length * h.n * 4);
  const t = Array.from({ length: h.n }, (_, k) => bytes.readDoubleLE(k * 8));
  const points: Record<string, Array<number | null>> = {};
  h.points.forEach((name, j) => {
    points[name] = Array.from({ length: h.n }, (_, k) => {
      const v = bytes.readFloatLE(h.n * 8 + (j * h.n + k) * 4);
      return Number.isNaN(v) ? null : v;
    });
  });
  return { t, points };
}

async function siteDoc(base: string): Promise<SiteDoc> {
  const res = await fetch(`${base}/api/site`, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  return (await res.json()) as SiteDoc;
}

/** Writes `request` on a fresh socket and collects everything until the server closes it (or `timeoutMs`). */
function rawExchange(port: number, request: string | Buffer, timeoutMs = 10_000): Promise<{ text: string; closedAfterMs: number | null }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The server may reset a connection it refuses while we are still writing to it.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
      reject(err);
    });
    socket.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    setTimeout(() => {
      socket.destroy();
      resolve({ text, closedAfterMs: null });
    }, timeoutMs).unref();
  });
}

/** An event stream client: counts `site` events; `first` resolves with the first one's document. */
interface StreamClient {
  status: number;
  events(): number;
  first: Promise<SiteDoc>;
  close(): void;
}

function openStream(port: number): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/site/events', agent: false }, (res) => {
      let buffer = '';
      let count = 0;
      let resolveFirst: (doc: SiteDoc) => void = () => undefined;
      const first = new Promise<SiteDoc>((r) => (resolveFirst = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: site') && data !== undefined) {
            count++;
            if (count === 1) resolveFirst(JSON.parse(data.slice(6)) as SiteDoc);
          }
        }
      });
      res.on('error', () => undefined);
      resolve({ status: res.statusCode ?? 0, events: () => count, first, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

/** Polls of the agent that started more than 100 ms late, and all polls, from its own histogram. */
async function pollLateness(agent: Agent): Promise<{ late: number; total: number }> {
  const metric = await agent.metrics.pollLateness.get();
  const total = metric.values.find((v) => v.metricName === 'gridkeeper_poll_start_delay_seconds_count')?.value ?? 0;
  const onTime = metric.values.find((v) => v.metricName === 'gridkeeper_poll_start_delay_seconds_bucket' && v.labels.le === 0.1)?.value ?? 0;
  return { late: total - onTime, total };
}

describe('site page', () => {
  it('GET /api/site: live readings with units and ages, the cached site view, and the charts history', async () => {
    const { base } = await runningSite('page-api');
    const op = await operator('page-api');

    const doc = await siteDoc(base);
    expect(doc).toMatchObject({ site: 'page-api', agentId: 'gw-a', agent: { zookeeper: 'connected', leader: true, status: 'ok' } });
    expect(doc.agent.token).toMatch(/^\d+$/);
    expect(doc.readings.devices['inv-1']).toMatchObject({ status: 'ok' });
    expect(typeof doc.readings.devices['inv-1']?.values.activePower).toBe('number');
    expect(doc.devices['inv-1']).toMatchObject({ bus: 'lan', pollIntervalMs: POLL_MS, units: { activePower: 'W', frequency: 'Hz', activePowerLimit: '%' } });
    expect(doc.devices['inv-1']?.ageMs).toBeLessThan(5000);
    // SunSpec: units from the discovered models and the standard names; "not implemented" is null.
    expect(doc.devices['pv-1']?.units).toMatchObject({ m103_W: 'W', activePower: 'W', activePowerLimit: '%' });
    const pvValues = doc.readings.devices['pv-1']?.values ?? {};
    expect(Object.values(pvValues)).toContain(null);

    // The site view: read at most once per 2 s whoever asks; the first request waits for it (1 s at most).
    const view = await waitFor('the site view', async () => (await siteDoc(base)).siteView.view ?? undefined, { timeoutMs: 10_000 });
    expect(view.lock.holder).toBe('gw-a');
    expect(view.lock.token).toBe(doc.agent.token);
    expect(view.agents.map((a) => a.agentId)).toEqual(['gw-a']);
    // The agents' readings appear once (as devices), not again inside every agent.
    expect(Object.keys(view.agents[0]?.readings ?? {}).sort()).toEqual(['leader', 'publishedAt', 'seq']);
    expect(view.setpoints).toEqual([]);

    // A command shows up with its result within a refresh or two.
    const id = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'site-page-test' });
    const result = await waitFor(
      'the result in /api/site',
      async () => (await siteDoc(base)).siteView.view?.recentResults.find((r) => r.id === id),
      { timeoutMs: 10_000, intervalMs: 250 },
    );
    expect(result.result).toMatchObject({ status: 'applied', agentId: 'gw-a', readBack: 42 });

    // History: one sample per device per 5 s; numbers only (no serialNumber text, no enabled bool).
    const history = await waitFor(
      'two samples of inv-1',
      async () => {
        const h = (await siteDoc(base)).history;
        return (h?.devices['inv-1']?.n ?? 0) >= 2 ? h : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    expect(history.sampleMs).toBe(5000);
    expect(history.windowMs).toBe(15 * 60 * 1000);
    const inv = decodeHistory(history.devices['inv-1']!);
    const n = inv.t.length;
    expect(inv.t[1]! - inv.t[0]!).toBeGreaterThanOrEqual(4000);
    expect(Math.abs(inv.t[n - 1]! - Date.now())).toBeLessThan(15_000);
    expect(inv.points.activePower).toHaveLength(n);
    expect(inv.points.activePower?.every((v) => typeof v === 'number')).toBe(true);
    // As float32: the frozen simulator's energy counter does not move, so every sample is the value read.
    expect(new Set(inv.points.energyTotal)).toEqual(new Set([Math.fround(Number(doc.readings.devices['inv-1']?.values.energyTotal))]));
    expect(inv.points.serialNumber).toBeUndefined();
    expect(inv.points.enabled).toBeUndefined();
    // A SunSpec point the device does not implement has no column at all.
    const pvNull = Object.entries(pvValues).find(([, v]) => v === null)?.[0];
    expect(pvNull).toBeDefined();
    expect(history.devices['pv-1']?.points).not.toContain(pvNull);
  }, 60_000);

  it('serves the page, its script and style sheet from the agent, with a policy that allows nothing else', async () => {
    const { base } = await runningSite('page-files');
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('<script src="site.js" defer></script>');
    expect(html).not.toMatch(/https?:\/\//); // nothing from the internet
    expect(html).not.toMatch(/<form/i); // read-only
    const script = await fetch(`${base}/site.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe(PAGE_SCRIPT);
    expect((await fetch(`${base}/site.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const head = await fetch(`${base}/api/site`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('the page script is valid JavaScript, with no HTML built from data and nothing fetched from elsewhere', () => {
    expect(() => new vm.Script(PAGE_SCRIPT, { filename: 'site.js' })).not.toThrow();
    expect(PAGE_SCRIPT).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect(PAGE_SCRIPT).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});

describe('per-point metrics', () => {
  it('gridkeeper_point_value for every numeric point (null, text and bool omitted) and gridkeeper_point_age_seconds per device', async () => {
    const { agent, base } = await runningSite('page-metrics');
    const text = await (await fetch(`${base}/metrics`)).text();
    const series = text.split('\n').filter((l) => l.startsWith('gridkeeper_point_value{'));
    const inv = agent.readings()['inv-1']!.values;
    const pv = agent.readings()['pv-1']!.values;
    expect(text).toMatch(/^gridkeeper_point_value\{device="inv-1",point="activePower",unit="W"\} -?\d/m);
    expect(text).toContain('gridkeeper_point_value{device="inv-1",point="W_SF",unit=""}');
    expect(text).toMatch(/^gridkeeper_point_value\{device="pv-1",point="m103_W",unit="W"\} /m);
    expect(text).not.toContain('point="serialNumber"');
    expect(text).not.toContain('point="enabled"');
    // Exactly the numeric points: one series each, none for a null ("not implemented") point.
    const numeric = (values: Record<string, unknown>): number => Object.values(values).filter((v) => typeof v === 'number').length;
    expect(Object.values(pv).filter((v) => v === null).length).toBeGreaterThan(0);
    // Values may move between the scrape and this count only in number, not in kind: compare counts per device.
    expect(series.filter((l) => l.includes('device="inv-1"'))).toHaveLength(numeric(inv));
    expect(series.filter((l) => l.includes('device="pv-1"'))).toHaveLength(numeric(pv));
    for (const [name, v] of Object.entries(pv)) if (v === null) expect(text).not.toContain(`device="pv-1",point="${name}"`);
    const ages = [...text.matchAll(/^gridkeeper_point_age_seconds\{device="([^"]+)"\} ([\d.e-]+)$/gm)];
    expect(ages.map((m) => m[1]).sort()).toEqual(['inv-1', 'pv-1']);
    for (const m of ages) expect(Number(m[2])).toBeLessThan(5);
  });
});

describe('the HTTP server against bad clients', () => {
  it('50 event streams are served and the 51st is refused with 503; a client that never reads holds up nobody; polling stays on time', async () => {
    const { agent, port, base } = await runningSite('page-streams');
    const before = await pollLateness(agent);

    // A client that asks for the stream and then never reads a byte (its socket paused from the start).
    const slow = net.connect(port, '127.0.0.1', () => slow.write('GET /api/site/events HTTP/1.1\r\nHost: x\r\n\r\n'));
    slow.pause();
    slow.on('error', () => undefined);

    const streams: StreamClient[] = [];
    for (let i = 0; i < 49; i++) streams.push(await openStream(port));
    expect(streams.every((s) => s.status === 200)).toBe(true);
    const refused = await fetch(`${base}/api/site/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('10');
    await refused.text();
    // Everything else still answers while the streams are full.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/api/site`)).status).toBe(200);

    const firsts = await Promise.all(streams.map((s) => s.first));
    expect(firsts.every((d) => d.history !== undefined && d.site === 'page-streams')).toBe(true);
    const counted = streams.map((s) => s.events());
    await sleep(4000);
    // About one event per second each (more on a status change), slow reader or not.
    for (const [i, s] of streams.entries()) expect(s.events() - counted[i]!).toBeGreaterThanOrEqual(2);

    const after = await pollLateness(agent);
    const polls = after.total - before.total;
    // Two devices at 200 ms over ~5 s: about 50 polls; at most one in 20 may start more than 100 ms late.
    expect(polls).toBeGreaterThan(30);
    expect(after.late - before.late).toBeLessThanOrEqual(Math.ceil(polls / 20));

    // A stream closed by its client frees its place.
    for (const s of streams) s.close();
    slow.destroy();
    await waitFor('a stream accepted again', async () => (await openStream(port)).status === 200, { timeoutMs: 5000 });
  }, 60_000);

  it('answers malformed requests, long URLs, big headers, unknown paths and other methods with 4xx, and drops a stalled request', async () => {
    const { agent, port, base } = await runningSite('page-bad-requests');
    const before = await pollLateness(agent);

    const garbage = await rawExchange(port, 'HELLO THERE\r\n\r\n');
    expect(garbage.text).toMatch(/^HTTP\/1\.1 400 /);
    const binary = await rawExchange(port, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a])); // a TLS hello
    expect(binary.text).toMatch(/^HTTP\/1\.1 400 /);

    const long = await rawExchange(port, `GET /${'a'.repeat(3000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(long.text).toMatch(/^HTTP\/1\.1 414 /);
    const longer = await rawExchange(port, `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(longer.text).toMatch(/^HTTP\/1\.1 431 /);
    const bigHeader = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(10_000)}\r\n\r\n`);
    expect(bigHeader.text).toMatch(/^HTTP\/1\.1 431 /);

    for (const path of ['/nope', '/api', '/api/site/', '/api/site/events/x', '/../etc/passwd', '/site.js.map']) {
      expect((await fetch(`${base}${path}`)).status, path).toBe(404);
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const res = await fetch(`${base}/`, { method, ...(method === 'POST' || method === 'PUT' ? { body: '{}' } : {}) });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }

    // Headers that never end: the server gives up after its 5 s header timeout (408) and closes.
    const stalled = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n', 15_000);
    expect(stalled.closedAfterMs).not.toBeNull();
    expect(stalled.closedAfterMs!).toBeLessThan(8000);
    expect(stalled.text).toMatch(/^HTTP\/1\.1 408 /);

    // Still serving, and polling was never held up.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const after = await pollLateness(agent);
    const polls = after.total - before.total;
    expect(polls).toBeGreaterThan(20);
    expect(after.late - before.late).toBeLessThanOrEqual(Math.ceil(polls / 20));
  }, 60_000);
});
