// What the journal says about something that can be down (a device, a bus): a line when it goes
// down, reminders at growing intervals while it stays down, a line when it is back; nothing above
// debug in between. A gateway writes its journal to an SD card: a device polled every 250 ms that
// stays dead for a day costs about thirty lines this way instead of one per poll, and the journal
// still says when it went, why, for how long and how often it was tried.
//
//   down        warn  once, at the FAILURES_BEFORE_DOWN-th failure in a row, with the error (type,
//                     code, message: no stack; one failure alone is a glitch, logged at debug)
//   still down  warn  1, 5, 15 and 60 min after the first failure, then every hour, with the count
//                     of failures since then and the latest error
//   up again    info  at the first success after `down`, with how long it was down and the count
//   each failure      debug, with the whole error (stack included): `device poll failed`
//
// Reminders are checked when a failure is reported, so they need no timer of their own: a thing that
// is down keeps being tried (a device every poll, a bus every reconnect, at most 30 s apart), and a
// reminder comes at the first failure after it is due.
import type { Logger } from 'pino';
import type { Clock } from './clock.js';

/** Failures in a row that make an outage; fewer are a glitch (debug only). */
export const FAILURES_BEFORE_DOWN = 2;
/** Reminders this long after the first failure, ms... */
export const REMIND_AFTER_MS: readonly number[] = [60_000, 300_000, 900_000, 3_600_000];
/** ...then one every this long, ms. */
export const REMIND_EVERY_MS = 3_600_000;

/** An error as the warn and info lines carry it: what and why, without the stack. */
export interface ErrorSummary {
  type: string;
  /** The typed error's code (`TIMEOUT`, `PORT_NOT_OPEN`) or a system error's (`ECONNREFUSED`). */
  code?: string;
  message: string;
}

export function summariseError(err: unknown): ErrorSummary {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  const code: unknown = (err as { code?: unknown }).code;
  return { type: err.name, ...(typeof code === 'string' ? { code } : {}), message: err.message };
}

export interface OutageLogOptions {
  /** What is down, first word of every message: `device`, `bus`. */
  subject: string;
  /** What is tried, for the debug line of each failure: `poll`, `connection`. */
  attempt: string;
  /** Name of the count field in the lines: `failedPolls`, `failures`. */
  countAs: string;
}

export class OutageLog {
  /** Monotonic ms of the first failure of the current run of failures; null while all is well. */
  private firstFailureMs: number | null = null;
  private failures = 0;
  private down = false;
  /** Reminders logged in this outage. */
  private reminded = 0;
  private lastError: ErrorSummary | null = null;

  constructor(
    private readonly opts: OutageLogOptions,
    private readonly deps: { logger: Logger; clock: Clock },
  ) {}

  /** True from the `down` line to the next success. */
  get isDown(): boolean {
    return this.down;
  }

  /** Failures since the last success. */
  get failureCount(): number {
    return this.failures;
  }

  /** One more failed attempt (a poll, a connect, a lost connection). */
  failed(err: unknown): void {
    const log = this.deps.logger;
    const now = this.deps.clock.monotonicMs();
    this.firstFailureMs ??= now;
    this.failures += 1;
    this.lastError = summariseError(err);
    log.debug({ err, [this.opts.countAs]: this.failures }, `${this.opts.subject} ${this.opts.attempt} failed`);
    if (!this.down) {
      if (this.failures < FAILURES_BEFORE_DOWN) return;
      this.down = true;
      log.warn({ error: this.lastError, [this.opts.countAs]: this.failures }, `${this.opts.subject} down`);
      return;
    }
    const downForMs = now - this.firstFailureMs;
    if (downForMs < reminderDueMs(this.reminded)) return;
    this.reminded += 1;
    log.warn(
      { error: this.lastError, downForMs: Math.round(downForMs), [this.opts.countAs]: this.failures },
      `${this.opts.subject} still down`,
    );
  }

  /** A successful attempt: ends the outage (the `up again` line) or the run of failures. */
  succeeded(): void {
    if (this.firstFailureMs === null) return;
    const downForMs = this.deps.clock.monotonicMs() - this.firstFailureMs;
    const fields = { downForMs: Math.round(downForMs), [this.opts.countAs]: this.failures };
    if (this.down) this.deps.logger.info(fields, `${this.opts.subject} up again`);
    else this.deps.logger.debug({ ...fields, error: this.lastError }, `${this.opts.subject} answers again after a glitch`);
    this.firstFailureMs = null;
    this.failures = 0;
    this.down = false;
    this.reminded = 0;
    this.lastError = null;
  }
}

/** How long after the first failure reminder number `n` (0-based) is due, ms. */
export function reminderDueMs(n: number): number {
  const fixed = REMIND_AFTER_MS[n];
  if (fixed !== undefined) return fixed;
  const last = REMIND_AFTER_MS[REMIND_AFTER_MS.length - 1] ?? 0;
  return last + (n - REMIND_AFTER_MS.length + 1) * REMIND_EVERY_MS;
}
