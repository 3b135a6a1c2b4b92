// Debian's chromium, headless, driven by puppeteer-core (which downloads no browser of its own), for
// the tests that look at the site page in a real browser.
import fs from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';

const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: the browser test needs Debian's chromium (apt-get install chromium)`);
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Nothing but the page under test: no update checks, sync, QUIC probes or first-run pages.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${makeTempDir('chromium-profile')}`,
    ],
  });
}
