// sd_notify(3) for `gridkeeper run` as a Type=notify service with WatchdogSec= (CONTRACT.md section 8):
//
//   READY=1 + STATUS=   start(), called once agent.start() has returned: config loaded, buses and
//                       pollers started, HTTP listening. ZooKeeper is not awaited: the agent polls and
//                       serves health without it.
//   STATUS=...          whenever the line (service-status.ts) changes, looked at every STATUS_CHECK_MS.
//   WATCHDOG=1          every WATCHDOG_USEC / 2 (the interval sd_watchdog_enabled(3) advises), and
//                       only while Agent.health() is not `stalled`, the very condition that makes
//                       GET /healthz answer 503. The pings come from a timer on the event loop, so a
//                       blocked loop sends none either.
//   RELOADING=1         reloading(), with MONOTONIC_USEC (Type=notify-reload wants it); ready() after.
//   STOPPING=1          stopping(): on SIGTERM/SIGINT, before the shutdown starts.
//
// Without NOTIFY_SOCKET it does nothing at all: no socket, no timer, no log line. A failing send is
// logged once (and once more when sends work again), never fatal: systemd then restarts us for the
// missing pings, which is all it could do anyway.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Health } from './http.js';
import type { NotifySettings } from './notify-settings.js';
import { NotifySocket } from './notify-socket.js';
import { statusLine } from './service-status.js';

/** How often the STATUS line is compared with the last one sent (ms); a datagram only on change. */
const STATUS_CHECK_MS = 1000;

export interface SystemdNotifierDeps {
  clock: Clock;
  logger: Logger;
  /** The agent's health: `stalled` withholds the watchdog ping, the rest makes the STATUS line. */
  health: () => Health;
}

export class SystemdNotifier {
  private socket: NotifySocket | null;
  private readonly log: Logger;
  private statusTimer: unknown = null;
  private watchdogTimer: unknown = null;
  private lastStatus: string | null = null;
  private running = false;
  /** Pings are being withheld because the poll loop is stalled. */
  private withholding = false;
  /** Sends that failed since the last one that worked. */
  private failedSends = 0;

  constructor(
    private readonly settings: NotifySettings,
    private readonly deps: SystemdNotifierDeps,
  ) {
    this.log = deps.logger;
    this.socket = settings.socket === null ? null : new NotifySocket(settings.socket);
  }

  /** The ping interval (ms), or null without a watchdog or without anyone to ping. */
  get pingIntervalMs(): number | null {
    const timeoutMs = this.settings.watchdogTimeoutMs;
    return this.socket === null || timeoutMs === null ? null : Math.max(1, Math.floor(timeoutMs / 2));
  }

  /** Opens the socket and sends READY=1; then STATUS on change and the watchdog pings. */
  start(): void {
    const socket = this.socket;
    if (socket === null || this.running) return;
    try {
      socket.start();
    } catch (err) {
      this.log.warn({ err }, 'cannot notify systemd: READY, STATUS and watchdog pings are not sent');
      this.socket = null;
      return;
    }
    this.running = true;
    this.log.info({ socket: socket.address, watchdogTimeoutMs: this.settings.watchdogTimeoutMs, pingIntervalMs: this.pingIntervalMs }, 'notifying systemd');
    this.ready();
    this.armStatus();
    this.ping();
  }

  /** READY=1 with the current STATUS: after start, and again after a reload. */
  ready(): void {
    if (!this.running) return;
    const status = statusLine(this.deps.health());
    this.lastStatus = status;
    this.send(`READY=1\nSTATUS=${status}`);
  }

  /** RELOADING=1 at the start of a reload (SIGHUP); ready() when it is done. */
  reloading(): void {
    if (!this.running) return;
    // CLOCK_MONOTONIC itself, which process.hrtime is on Linux (libuv's uv_hrtime); Clock.monotonicMs()
    // counts from the process start and would not match systemd's clock.
    this.send(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
  }

  /** STOPPING=1: shutdown begins. No pings or STATUS after it. */
  stopping(): void {
    if (!this.running) return;
    this.stopTimers();
    this.running = false;
    this.send('STOPPING=1\nSTATUS=stopping');
  }

  close(): void {
    this.stopTimers();
    this.running = false;
    this.socket?.close();
  }

  private armStatus(): void {
    this.statusTimer = this.deps.clock.setTimeout(() => {
      this.statusTimer = null;
      if (!this.running) return;
      const status = statusLine(this.deps.health());
      if (status !== this.lastStatus) {
        this.lastStatus = status;
        this.send(`STATUS=${status}`);
      }
      this.armStatus();
    }, STATUS_CHECK_MS);
  }

  /** WATCHDOG=1 unless the poll loop is stalled; then again after pingIntervalMs. */
  private ping(): void {
    const intervalMs = this.pingIntervalMs;
    if (intervalMs === null || !this.running) return;
    if (this.deps.health().stalled) {
      if (!this.withholding) {
        this.withholding = true;
        // systemd restarts the agent once watchdogTimeoutMs pass without a ping.
        this.log.warn({ watchdogTimeoutMs: this.settings.watchdogTimeoutMs }, 'poll loop stalled: withholding watchdog pings');
      }
    } else {
      if (this.withholding) {
        this.withholding = false;
        this.log.info('poll loop running again: watchdog pings resumed');
      }
      this.send('WATCHDOG=1');
    }
    this.watchdogTimer = this.deps.clock.setTimeout(() => {
      this.watchdogTimer = null;
      this.ping();
    }, intervalMs);
  }

  private stopTimers(): void {
    if (this.statusTimer !== null) this.deps.clock.clearTimeout(this.statusTimer);
    if (this.watchdogTimer !== null) this.deps.clock.clearTimeout(this.watchdogTimer);
    this.statusTimer = null;
    this.watchdogTimer = null;
  }

  private send(message: string): void {
    const socket = this.socket;
    if (socket === null) return;
    try {
      socket.send(message);
    } catch (err) {
      if (this.failedSends === 0) this.log.warn({ err }, 'cannot notify systemd; carrying on (logged once until a send works again)');
      this.failedSends++;
      return;
    }
    if (this.failedSends > 0) {
      this.log.info({ failedSends: this.failedSends }, 'notifying systemd works again');
      this.failedSends = 0;
    }
  }
}
