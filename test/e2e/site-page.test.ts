// The site page in a real browser: Debian's chromium, headless, driven by puppeteer-core (which
// downloads no browser), against a running site of real processes: two `gridkeeper run` agents, a
// `gridkeeper simulate` process and a ZooKeeper server. The page of the standby agent lists every
// device with its values, marks the leader and its fencing token, shows a command submitted during
// the test as applied without a reload, turns a device whose simulator is stopped to error within two
// poll intervals, draws a chart, says so when ZooKeeper is gone, fits a phone's screen, fetches
// nothing from anywhere but the agent, and logs no console error. Screenshots are written under the OS temp dir (paths printed).
import path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { keepTempDir, makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { waitFor } from '../../tools/devtools/wait.js';
import { launchChromium } from './chromium.js';
import { e2eSuite, E2eSite, leaderAndStandby } from './harness.js';

/** The devices' poll interval: the default of the config. */
const POLL_MS = 1000;

const suite = e2eSuite({ tickTimeMs: 200 });
let browser: Browser | null = null;

// Registered after the suite's hooks, so it runs before them (vitest runs after-hooks in reverse).
afterAll(async () => {
  await browser?.close();
});

/** The number as the page writes it (page-script.ts formatNumber). */
function shown(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
}

interface Watched {
  consoleErrors: string[];
  foreignRequests: string[];
  failedRequests: string[];
  navigations: number;
}

/** Console errors, page errors, requests to anywhere but `origin`, failed requests, and navigations of the main frame. */
function watch(page: Page, origin: string): Watched {
  const w: Watched = { consoleErrors: [], foreignRequests: [], failedRequests: [], navigations: 0 };
  page.on('console', (msg) => {
    if (msg.type() === 'error') w.consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => w.consoleErrors.push(String(err)));
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith('data:')) w.foreignRequests.push(url);
  });
  page.on('requestfailed', (req) => {
    // The event stream is cut when the page closes at the end; anything else is a failure.
    if (!req.url().endsWith('/api/site/events')) w.failedRequests.push(`${req.url()}: ${req.failure()?.errorText ?? '?'}`);
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) w.navigations++;
  });
  return w;
}

/** Selector of the value cell of `device`.`point` on the page. */
function valueCell(device: string, point: string): string {
  return `[data-device="${device}"] tr[data-point="${point}"] td:nth-child(2)`;
}

/** Text of the value cell of `device`.`point` on the page; null when there is none. */
async function valueText(page: Page, device: string, point: string): Promise<string | null> {
  const cell = await page.$(valueCell(device, point));
  return cell === null ? null : cell.evaluate((td) => td.textContent);
}

describe('the site page in chromium', () => {
  it('shows the site live: devices and values, the leader, a command applied, a device failing, charts', async () => {
    const site = await E2eSite.start({ zkConnect: suite.zk.connectString, pollIntervalMs: POLL_MS });
    const { b, tokenA } = await leaderAndStandby(site);
    const op = await site.client();

    browser = await launchChromium();
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const origin = `http://127.0.0.1:${b.httpPort}`;
    const watched = watch(page, origin);
    // The standby's page: the site as a whole, seen from the agent that does not lead.
    await page.goto(`${origin}/`, { waitUntil: 'domcontentloaded' });

    // Every device of the config, with every value its agent reads.
    await page.waitForSelector('[data-device="inv-1"][data-status="ok"] tr[data-point="activePower"]', { timeout: 15_000 });
    await page.waitForSelector('[data-device="wt-1"][data-status="ok"] tr[data-point]', { timeout: 15_000 });
    const doc = (await (await fetch(`${origin}/api/site`)).json()) as {
      readings: { devices: Record<string, { values: Record<string, unknown> }> };
      devices: Record<string, { units: Record<string, string> }>;
    };
    for (const [device, reading] of Object.entries(doc.readings.devices)) {
      const names = await page.$$eval(`[data-device="${device}"] tr[data-point]`, (rows) => rows.map((r) => r.getAttribute('data-point')));
      expect(names, device).toEqual(Object.keys(reading.values));
      // The simulator is frozen: numbers that do not move must read exactly as the agent has them.
      for (const point of ['activePower', 'frequency', 'state']) {
        const v = reading.values[point];
        if (typeof v !== 'number') continue;
        const unit = doc.devices[device]?.units[point] ?? '';
        expect(await valueText(page, device, point), `${device}.${point}`).toBe(unit ? `${shown(v)} ${unit}` : shown(v));
      }
    }

    // The leader is marked, with its fencing token; this page's agent is highlighted.
    await page.waitForSelector('tr[data-agent="gw-a"][data-leader="true"]', { timeout: 10_000 });
    await page.waitForSelector('tr[data-agent="gw-b"][data-leader="false"].me', { timeout: 10_000 });
    const tokenCell = await page.$eval('tr[data-agent="gw-a"] td:nth-child(3)', (td) => td.textContent);
    expect(tokenCell).toBe(tokenA);

    // A command submitted now appears as applied, by the leader, without a reload.
    const navigationsBefore = watched.navigations;
    const id = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 42, issuedBy: 'browser-test' });
    await page.waitForSelector(`tr[data-result="${id}"][data-status="applied"]`, { timeout: 15_000 });
    const resultRow = await page.$eval(`tr[data-result="${id}"]`, (tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent));
    expect(resultRow[2]).toBe('inv-1.activePowerLimit = 42');
    expect(resultRow[3]).toBe('gw-a');
    expect(resultRow[4]).toBe(tokenA);
    // (Functions for the page are strings here: this project compiles without the DOM's types.)
    await page.waitForFunction(`document.querySelector(${JSON.stringify(valueCell('inv-1', 'activePowerLimit'))})?.textContent === '42 %'`, { timeout: 10_000 });
    expect(watched.navigations).toBe(navigationsBefore);

    // Held setpoints (CONTRACT.md section 7): the section lists exactly those of the site view, and
    // is hidden while there are none.
    await waitFor(
      'the held setpoints of the site view on the page',
      async () => {
        const doc2 = (await (await fetch(`${origin}/api/site`)).json()) as { siteView: { view: { setpoints: Array<{ id: string }> } | null } };
        const ids = (doc2.siteView.view?.setpoints ?? []).map((sp) => sp.id).sort();
        const rows = (await page.$$eval('#setpoints tr[data-setpoint]', (trs) => trs.map((tr) => tr.getAttribute('data-setpoint') ?? ''))).sort();
        const hidden = await page.$eval('#setpoints', (section) => section.hasAttribute('hidden'));
        return rows.join(',') === ids.join(',') && hidden === (ids.length === 0);
      },
      { timeoutMs: 10_000, intervalMs: 500 },
    );

    // A chart with points: two samples 5 s apart at least (the agent samples every 5 s, the page too).
    const chartLine = '[data-device="inv-1"] tr[data-point="activePower"] svg.chart polyline';
    await page.waitForFunction(`(document.querySelector(${JSON.stringify(chartLine)})?.getAttribute('points') ?? '').trim().split(' ').length >= 2`, {
      timeout: 20_000,
      polling: 250,
    });

    const shots = makeTempDir('site-page-screenshots');
    keepTempDir(shots);
    const laptopShot = path.join(shots, 'site-page-laptop.png');
    await page.screenshot({ path: laptopShot, fullPage: true });
    console.log(`site page screenshot (laptop, healthy site): ${laptopShot}`);

    // The devices die: the page shows them in error within two poll intervals. A poll of the dead
    // port fails at once (connection refused), at most one interval after the devices went, and the
    // page hears of a status change within 250 ms (the stream's check period): two intervals leave
    // the rest of a second for a loaded CI machine and the browser.
    await site.stopSimulator();
    const stoppedAt = Date.now();
    await page.waitForSelector('[data-device="inv-1"][data-status="error"]', { timeout: 10_000 });
    const errorAfterMs = Date.now() - stoppedAt;
    console.log(`site page: inv-1 shown in error ${errorAfterMs} ms after its simulator stopped (poll interval ${POLL_MS} ms)`);
    expect(errorAfterMs).toBeLessThan(2 * POLL_MS);
    const errorText = await page.$eval('[data-device="inv-1"] .error-text', (p) => p.textContent);
    expect(errorText).toMatch(/\S/);
    // The last good values stay, marked by the status (as in the readings snapshot).
    expect(await valueText(page, 'inv-1', 'activePowerLimit')).toBe('42 %');

    // ZooKeeper goes: the page says so plainly, and keeps showing the agent's own readings.
    await suite.zk.stop();
    await page.waitForFunction(`[...document.querySelectorAll('#banner p.bad')].some((p) => p.textContent.includes('has lost ZooKeeper'))`, { timeout: 15_000 });
    expect(await page.$('[data-device="wt-1"][data-status="error"]')).not.toBeNull();

    // A phone: one column, nothing wider than the screen but the tables' own scrolling.
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    const phoneShot = path.join(shots, 'site-page-phone.png');
    await page.screenshot({ path: phoneShot, fullPage: true });
    console.log(`site page screenshot (phone, devices in error, ZooKeeper gone): ${phoneShot}`);

    await page.close();
    expect(watched.consoleErrors).toEqual([]);
    expect(watched.foreignRequests).toEqual([]);
    expect(watched.failedRequests).toEqual([]);
  }, 120_000);
});
