// The sd_notify side of the agent on its own, in-process, against a real unix datagram socket (the
// NotifyListener of the test): what is sent and when, the environment as sd_notify(3) reads it, and
// what happens when nobody listens. The agent as a systemd service, with its real poll loop stalled
// and resumed, is test/e2e/systemd-notify.test.ts.
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Health } from '../../src/agent/http.js';
import { notifySettings, type NotifySettings } from '../../src/agent/notify-settings.js';
import { statusLine } from '../../src/agent/service-status.js';
import { SystemdNotifier } from '../../src/agent/systemd-notify.js';
import { systemClock } from '../../src/clock.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { NotifyListener } from '../helpers/notify-listener.js';

const toClose: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of toClose.splice(0).reverse()) c.close();
});

/** A pino logger whose lines land in `lines`, parsed. */
function capturingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

function health(over: Partial<Health> = {}): Health {
  return { status: 'ok', zookeeper: 'connected', leader: true, devices: { 'inv-1': 'ok', 'wt-1': 'ok' }, clockOffsetMs: null, stalled: false, ...over };
}

/** A started notifier reading `current.health`, which the test may replace. */
function notifier(settings: NotifySettings, current: { health: Health } = { health: health() }) {
  const { logger, lines } = capturingLogger();
  const n = new SystemdNotifier(settings, { clock: systemClock, logger, health: () => current.health });
  toClose.push(n);
  n.start();
  return { n, lines, current };
}

function listener(at?: string): NotifyListener {
  const l = NotifyListener.open(at);
  toClose.push(l);
  return l;
}

describe('notifySettings (the environment as sd_notify(3) reads it)', () => {
  it('takes NOTIFY_SOCKET as given and WATCHDOG_USEC in ms, for this pid only', () => {
    expect(notifySettings({}, 42)).toEqual({ socket: null, watchdogTimeoutMs: null });
    expect(notifySettings({ NOTIFY_SOCKET: '' }, 42).socket).toBeNull();
    expect(notifySettings({ NOTIFY_SOCKET: '/run/systemd/notify', WATCHDOG_USEC: '30000000' }, 42)).toEqual({
      socket: '/run/systemd/notify',
      watchdogTimeoutMs: 30_000,
    });
    expect(notifySettings({ NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, 42).socket).toBe('@/org/freedesktop/systemd1/notify');
    expect(notifySettings({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '42' }, 42).watchdogTimeoutMs).toBe(2000);
    // Meant for another process (we inherited it), or not a positive integer: no watchdog.
    expect(notifySettings({ WATCHDOG_USEC: '2000000', WATCHDOG_PID: '41' }, 42).watchdogTimeoutMs).toBeNull();
    for (const usec of ['0', '-5', '1.5', 'soon', '']) expect(notifySettings({ WATCHDOG_USEC: usec }, 42).watchdogTimeoutMs, usec).toBeNull();
  });
});

describe('statusLine', () => {
  it('says leader or standby, devices up of all, and the ZooKeeper state', () => {
    expect(statusLine(health())).toBe('leader, devices up 2/2, ZooKeeper connected');
    expect(statusLine(health({ leader: false, zookeeper: 'suspended', devices: { a: 'ok', b: 'error', c: 'standby' } }))).toBe(
      'standby, devices up 1/3 (1 idle on a leaderOnly bus), ZooKeeper suspended',
    );
    expect(statusLine(health({ stalled: true, devices: { a: 'pending' } }))).toBe('poll loop stalled, leader, devices up 0/1, ZooKeeper connected');
  });
});

describe('SystemdNotifier', () => {
  it('sends READY=1 with the STATUS first, then STATUS only when it changes', async () => {
    const l = listener();
    const { current } = notifier({ socket: l.path, watchdogTimeoutMs: null }, { health: health({ leader: false, zookeeper: 'connecting', devices: { 'inv-1': 'pending' } }) });
    const first = await l.waitFor('READY=1', () => true, 2000);
    expect(first.text).toBe('READY=1\nSTATUS=standby, devices up 0/1, ZooKeeper connecting');

    await sleep(2500); // 2.5 looks at an unchanged health: nothing more sent
    expect(l.messages).toHaveLength(1);
    current.health = health({ devices: { 'inv-1': 'ok' } });
    const changed = await l.waitFor('the new STATUS', (m) => m.fields.has('STATUS'), 3000, 1);
    expect(changed.text).toBe('STATUS=leader, devices up 1/1, ZooKeeper connected');
    await sleep(1500);
    expect(l.messages).toHaveLength(2);
  });

  it('pings every WATCHDOG_USEC / 2 while healthy, withholds the pings while stalled, and resumes', async () => {
    const l = listener();
    // 600 ms: a ping every 300 ms.
    const { current, lines } = notifier({ socket: l.path, watchdogTimeoutMs: 600 });
    await waitFor('5 pings', () => l.pings().length >= 5, { timeoutMs: 5000 });
    const pings = l.pings();
    const gaps = pings.slice(1).map((t, i) => t - (pings[i] ?? t));
    // Timers fire late on a loaded machine, never early: 300 ms each, up to 250 ms of lateness allowed.
    for (const gap of gaps) expect(gap).toBeGreaterThan(250);
    expect(median(gaps)).toBeLessThan(550);

    current.health = health({ stalled: true });
    const stalledAt = performance.now();
    await sleep(1500); // 5 ping intervals
    // A ping already under way when the health changed may still arrive within one interval.
    expect(l.pings().filter((t) => t > stalledAt + 300)).toEqual([]);
    expect(lines.filter((o) => o.msg === 'poll loop stalled: withholding watchdog pings')).toHaveLength(1);

    current.health = health();
    const resumedAt = performance.now();
    await waitFor('pings again', () => l.pings().filter((t) => t > resumedAt).length >= 2, { timeoutMs: 3000 });
    expect(lines.filter((o) => o.msg === 'poll loop running again: watchdog pings resumed')).toHaveLength(1);
  });

  it('sends RELOADING=1 with MONOTONIC_USEC and READY=1 around a reload, and STOPPING=1 at the end, after which nothing', async () => {
    const l = listener();
    const { n } = notifier({ socket: l.path, watchdogTimeoutMs: 400 });
    await l.waitFor('READY=1', (m) => m.fields.has('READY'), 2000);

    n.reloading();
    const reloading = await l.waitFor('RELOADING=1', (m) => m.fields.get('RELOADING') === '1', 2000);
    // CLOCK_MONOTONIC in µs, as systemd compares it with its own clock.
    const nowUsec = Number(process.hrtime.bigint() / 1000n);
    expect(Math.abs(Number(reloading.fields.get('MONOTONIC_USEC')) - nowUsec)).toBeLessThan(1_000_000);
    n.ready();
    await l.waitFor('READY=1 after the reload', (m) => m.fields.get('READY') === '1', 2000, l.messages.indexOf(reloading) + 1);

    n.stopping();
    const stopping = await l.waitFor('STOPPING=1', (m) => m.fields.get('STOPPING') === '1', 2000);
    expect(stopping.text).toBe('STOPPING=1\nSTATUS=stopping');
    const count = l.messages.length;
    await sleep(1000); // 5 ping intervals
    expect(l.messages).toHaveLength(count);
  });

  it('does nothing at all without NOTIFY_SOCKET: no socket, no timer, no log line', async () => {
    const { n, lines } = notifier(notifySettings({ WATCHDOG_USEC: '400000' }, process.pid));
    expect(n.pingIntervalMs).toBeNull();
    n.ready();
    n.reloading();
    n.stopping();
    n.close();
    await sleep(500);
    expect(lines).toEqual([]);
  });

  it('does not ping for another process (WATCHDOG_PID), but still says READY and STATUS', async () => {
    const l = listener();
    notifier(notifySettings({ NOTIFY_SOCKET: l.path, WATCHDOG_USEC: '400000', WATCHDOG_PID: String(process.pid + 1) }, process.pid));
    await l.waitFor('READY=1', (m) => m.fields.get('READY') === '1', 2000);
    await sleep(1000); // 5 would-be ping intervals
    expect(l.pings()).toEqual([]);
  });

  it('logs a failing send once, never throws, and logs once more when sends work again', async () => {
    const at = path.join(makeTempDir('notify-late'), 'notify.sock');
    const { lines } = notifier({ socket: at, watchdogTimeoutMs: 200 }); // nobody listens at `at` yet: ENOENT
    await sleep(1000); // READY and about 5 pings, all failing
    const warnings = lines.filter((o) => o.msg === 'cannot notify systemd; carrying on (logged once until a send works again)');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.err).toMatchObject({ type: 'NotifyError', code: 'NOTIFY_SEND_FAILED' });
    expect(String((warnings[0]?.err as { message: string }).message)).toContain('ENOENT');

    const l = listener(at);
    await waitFor('a ping to the late listener', () => l.pings().length > 0, { timeoutMs: 2000 });
    const recovered = lines.filter((o) => o.msg === 'notifying systemd works again');
    expect(recovered).toHaveLength(1);
    expect(Number(recovered[0]?.failedSends)).toBeGreaterThanOrEqual(3);
  });

  it('refuses an abstract socket name with one warning, as unix-dgram cannot address it', async () => {
    const { n, lines } = notifier({ socket: '@gridkeeper-test', watchdogTimeoutMs: 200 });
    expect(n.pingIntervalMs).toBeNull();
    await sleep(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, err: { code: 'NOTIFY_ADDRESS_UNSUPPORTED' } });
  });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
