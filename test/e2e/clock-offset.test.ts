// One clock for everything a reader sees (CONTRACT.md section 9), end to end: a `gridkeeper run`
// process whose wall clock is a year behind, as a Raspberry Pi without a battery clock may boot,
// made so by Debian's libfaketime (package `faketime`), against a real ZooKeeper server and a
// `gridkeeper simulate` process. Its readings (publishedAt, readAt), its agent document's startedAt
// and its command results carry ZooKeeper's time, /healthz and /metrics say the clock is a year
// off, and the log says so once; its site page, in chromium, says the gateway's clock is a year
// behind and shows its devices fresh (aged by the corrected clock), not a year stale.
//
// libfaketime is preloaded into the agent's own process (LD_PRELOAD and FAKETIME, what the
// `faketime` command sets) rather than run through the `faketime` command: that command forks, waits
// for its child and passes no signal on, so the harness's SIGTERM and SIGKILL would stop the wrapper
// and leave the agent running. FAKETIME_DONT_FAKE_MONOTONIC=1: only the wall clock is wrong, as on
// the Pi (its monotonic clock counts from boot and is right); libfaketime would otherwise move
// CLOCK_MONOTONIC a year too, which libuv's timers and the ZooKeeper client's timeouts read.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../tools/devtools/wait.js';
import { launchChromium } from './chromium.js';
import { e2eSuite, E2eSite, logLines, timeOf } from './harness.js';

const YEAR_MS = 365 * 86_400_000;
/**
 * How close to the true time a stamp must be. The offset itself is learnt to within half a loopback
 * round trip; a reading is at most a poll interval (300 ms) plus a publish interval (200 ms) old when
 * written, and the test reads it a moment later. 30 s leaves room for a CI machine whose two cores
 * run JVMs and node processes at once, and still tells the right time from one a year (or a day) off.
 */
const CLOSE_MS = 30_000;
/** How close the measured offset must be to the year libfaketime takes off: the same generous minute. */
const OFFSET_CLOSE_MS = 60_000;

/** libfaketime.so.1 of Debian's libfaketime (brought by `faketime`), under /usr/lib/<multiarch>/faketime/. */
function libfaketime(): string {
  for (const dir of fs.readdirSync('/usr/lib')) {
    const lib = path.join('/usr/lib', dir, 'faketime', 'libfaketime.so.1');
    if (fs.existsSync(lib)) return lib;
  }
  throw new Error('libfaketime.so.1 not found under /usr/lib/*/faketime/: the test needs Debian\'s faketime (apt-get install faketime)');
}

const suite = e2eSuite({ tickTimeMs: 200 });
let browser: Browser | null = null;

// Registered after the suite's hooks, so it runs before them (vitest runs after-hooks in reverse).
afterAll(async () => {
  await browser?.close();
});

function expectNear(iso: unknown, label: string): void {
  expect(typeof iso, label).toBe('string');
  const ms = Date.parse(iso as string);
  expect(Math.abs(ms - Date.now()), `${label} = ${String(iso)}, true time ${new Date().toISOString()}`).toBeLessThan(CLOSE_MS);
}

describe('an agent process whose clock is a year behind (libfaketime)', () => {
  it("stamps readings, startedAt and results by ZooKeeper's clock; /healthz, /metrics and the log say it is a year off", async () => {
    const site = await E2eSite.start({ zkConnect: suite.zk.connectString });
    const op = await site.client();
    const a = await site.startAgent('gw-a', {
      env: { LD_PRELOAD: libfaketime(), FAKETIME: '-365d', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    });
    const leaderLine = await a.leader();
    // The agent's own clock really is a year behind: pino stamps its lines by it.
    expect(Math.abs(timeOf(leaderLine) - (Date.now() - YEAR_MS)), 'log line time of the faked process').toBeLessThan(OFFSET_CLOSE_MS);

    // Readings with both devices polled, as ZooKeeper has them: stamped by the true time.
    const readings = await waitFor(
      'a readings snapshot with both devices ok',
      async () => {
        const doc = (await op.readings('gw-a')) as { publishedAt: string; devices: Record<string, { status: string; readAt: string | null }> } | null;
        const devices = Object.values(doc?.devices ?? {});
        return doc !== null && devices.length === 2 && devices.every((d) => d.status === 'ok') ? doc : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expectNear(readings.publishedAt, 'publishedAt');
    for (const [id, d] of Object.entries(readings.devices)) expectNear(d.readAt, `${id} readAt`);

    // The agent document: startedAt is written again, corrected, right after the first write taught the clock.
    const agentDoc = await waitFor(
      'the agent document with a corrected startedAt',
      async () => {
        const doc = await op.agent('gw-a');
        return doc !== null && Math.abs(Date.parse(String(doc.startedAt)) - Date.now()) < CLOSE_MS ? doc : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expectNear(agentDoc.startedAt, 'startedAt');

    // /healthz and /metrics: ZooKeeper's clock minus the agent's, +365 days.
    const health = await a.health();
    expect(health.httpStatus).toBe(200);
    expect(typeof health.body.clockOffsetMs).toBe('number');
    expect(Math.abs((health.body.clockOffsetMs as number) - YEAR_MS)).toBeLessThan(OFFSET_CLOSE_MS);
    const metrics = await a.metrics();
    const gauge = /^gridkeeper_clock_offset_seconds (\S+)$/m.exec(metrics);
    expect(gauge, 'a gridkeeper_clock_offset_seconds sample').not.toBeNull();
    expect(Math.abs(Number(gauge?.[1]) - YEAR_MS / 1000)).toBeLessThan(OFFSET_CLOSE_MS / 1000);

    // A command: applied (not expired: its TTL is judged by ZooKeeper's clock), its result stamped by it.
    const id = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'clock-e2e' });
    const result = (await op.awaitResults([id], 15_000)).get(id);
    expect(result?.status).toBe('applied');
    expectNear(result?.startedAt, 'result startedAt');
    expectNear(result?.finishedAt, 'result finishedAt');

    // Said once, as a warning with the offset.
    const warned = a.child.lines.filter((l) => l.includes('"the local clock is'));
    expect(warned, a.child.tail()).toHaveLength(1);
    const line = JSON.parse(warned[0] ?? '{}') as Record<string, unknown>;
    expect(line.level).toBe(40);
    expect(Math.abs((line.clockOffsetMs as number) - YEAR_MS)).toBeLessThan(OFFSET_CLOSE_MS);
    expect(logLines(a.child, 'site lock acquired: leader')).toHaveLength(1);

    // The site page: the gateway's clock said to be a year behind; its devices fresh (ages by the
    // corrected clock), not a year stale; its own agent started seconds ago, not a year.
    browser = await launchChromium();
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
    await page.goto(`http://127.0.0.1:${a.httpPort}/`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#banner p.clock-off', { timeout: 15_000 });
    const banner = await page.$eval('#banner p.clock-off', (p) => p.textContent);
    expect(banner).toContain('365 days behind');
    await page.waitForSelector('[data-device="inv-1"][data-status="ok"][data-stale="false"]', { timeout: 15_000 });
    // The row is drawn at once from the agent's own state, and gets its start time with the site
    // view (read from ZooKeeper every 2 s while a page looks): wait for that.
    await page.waitForFunction(`(document.querySelector('tr[data-agent="gw-a"] td:nth-child(7)')?.textContent ?? '') !== ''`, { timeout: 15_000 });
    const started = await page.$eval('tr[data-agent="gw-a"] td:nth-child(7)', (td) => td.textContent);
    expect(started).toMatch(/^\d+(\.\d)? s ago$|^\d+ min \d+ s ago$/);
    await page.close();
    expect(consoleErrors).toEqual([]);

    await a.child.stop();
  }, 90_000);
});
