// HeldSetpoints: the lock holder's side of `setpoints/` (CONTRACT.md section 7).
//  - Takeover: when this agent holds the lock and its actuation gate is open, it reads every held
//    setpoint and re-asserts each (applies its value again through the CommandHandler, guard()
//    asked right before the bytes go out) BEFORE the command queue handles anything: the queue
//    waits for `ready`. A setpoint whose holdUntil has passed by ZooKeeper's clock (the estimate's
//    uncertainty counted as elapsed) is not re-asserted but released: its point gets its fallback
//    and the node goes. A node that is no setpoint document, or names a point this agent's config
//    cannot hold, is logged and left alone (an agent with another config may know it).
//  - Commands: the queue asks releaseRefusal() for a release (value null: only of a point that
//    holds one), and calls applied() after an applied command, before its result: a command on a
//    point with a fallback becomes its held setpoint; a release deletes the node. Written before
//    the result, so a holder that dies in between leaves either no result (the successor applies
//    the command again) or both.
//  - holdMs: a timer at the earliest holdUntil releases what has ended, while the gate is open; if
//    it is closed, the next pass (gate open again, or the next holder's takeover) does it.
//  - current(): the setpoints in force, for the agent's refresh and drift checks; none unless this
//    hold's takeover is done, none past its holdUntil.
// Losing the lock (follower) forgets everything: the next hold reads the nodes again.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ActuationGate } from './actuation-gate.js';
import type { Clock, CorrectedClock } from '../clock.js';
import type { Command, CommandHandler } from './command.js';
import { setpointName, type SitePaths } from './paths.js';
import { SerialRunner } from './serial-runner.js';
import type { ServerClock } from './server-clock.js';
import { serverNow, serverNowEstimate, type ServerNow } from './server-now.js';
import { holdUntilMs, type SetpointDocument } from './setpoint-document.js';
import { SetpointStore } from './setpoint-store.js';
import type { ZkSession } from './session.js';
import type { LockHold, SiteLock } from './site-lock.js';
import type { ZkAcl } from './zk-client.js';

/** A takeover that could not finish for a reason no event announces (a ZooKeeper error, no clock yet) is tried again after this, ms. */
const RETRY_MS = 1000;
/** A release the device refused is tried again after this, ms. */
const RELEASE_RETRY_MS = 5000;
/** Longest single wait for the next holdUntil, ms (setTimeout's limit is about 24.8 days). */
const MAX_TIMER_MS = 3_600_000;

export interface HeldSetpointsOptions {
  paths: SitePaths;
  agentId: string;
  /** ACL of setpoint nodes (the site's); null keeps the library's open ACL. */
  acl: readonly ZkAcl[] | null;
}

export interface HeldSetpointsDeps {
  session: ZkSession;
  lock: SiteLock;
  gate: ActuationGate;
  handler: CommandHandler;
  serverClock: ServerClock;
  /** The wall clock of the times we write (results, setpoints): the local one corrected by serverClock. */
  wallClock: CorrectedClock;
  /** Makes a write whose Stat teaches the ServerClock (used when it has no recent sample). */
  clockProbe?: () => Promise<unknown>;
  logger: Logger;
  clock: Clock;
}

type WriteOutcome = 'done' | 'failed' | 'refused';

export class HeldSetpoints extends EventEmitter<{ change: []; ready: [] }> {
  private readonly store: SetpointStore;
  private readonly log: Logger;
  private readonly runner: SerialRunner;
  /** The valid setpoints of this hold, by `<device>.<point>` (also ended ones not yet released). */
  private readonly held = new Map<string, SetpointDocument>();
  /** The hold whose takeover is done. */
  private readyHold: LockHold | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private closed = false;
  /** Changes of held setpoints, one at a time: the queue's and the holdMs releases. */
  private mutex: Promise<void> = Promise.resolve();

  private readonly kick = (): void => this.runner.kick();
  private readonly onFollower = (): void => {
    this.readyHold = null;
    this.clearTimer();
    if (this.held.size > 0) {
      this.held.clear();
      this.emit('change');
    }
  };

  constructor(
    private readonly opts: HeldSetpointsOptions,
    private readonly deps: HeldSetpointsDeps,
  ) {
    super();
    this.log = deps.logger.child({ component: 'held-setpoints' });
    this.store = new SetpointStore({ paths: opts.paths, acl: opts.acl }, { session: deps.session, serverClock: deps.serverClock, clock: deps.clock });
    this.runner = new SerialRunner(
      () =>
        this.pass().catch((err: unknown) => {
          this.log.warn({ err }, `held setpoints: ZooKeeper request failed; trying again in ${RETRY_MS} ms`);
          this.retryIn(RETRY_MS);
        }),
      () => this.closed,
    );
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.lock.on('leader', this.kick);
    this.deps.lock.on('follower', this.onFollower);
    this.deps.gate.on('open', this.kick);
    this.kick();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.deps.lock.off('leader', this.kick);
    this.deps.lock.off('follower', this.onFollower);
    this.deps.gate.off('open', this.kick);
    this.clearTimer();
    this.held.clear();
  }

  /** This hold's takeover is done: held setpoints re-asserted (or released), commands may run. */
  get ready(): boolean {
    const hold = this.deps.lock.hold;
    return !this.closed && hold !== null && hold === this.readyHold;
  }

  /** The setpoints in force: none unless ready, none whose holdUntil has passed (or cannot be judged yet). */
  current(): SetpointDocument[] {
    if (!this.ready) return [];
    const now = serverNowEstimate(this.deps.serverClock);
    // Without an estimate, only what has no holdUntil is surely in force.
    return [...this.held.values()].filter((s) => (now === null ? holdUntilMs(s) === null : !this.ended(s, now)));
  }

  /** For a command of the queue: null when it may go ahead; for a release of a point that holds nothing, why not. */
  async releaseRefusal(cmd: Command): Promise<string | null> {
    if (cmd.value !== null) return null;
    if (await this.store.exists(cmd.device, cmd.point)) return null;
    return `value: null releases a held setpoint, and ${cmd.device}.${cmd.point} holds none: nothing to release`;
  }

  /**
   * The queue applied command `name` (created at `ctimeMs`, ZooKeeper's clock) under `fence`, and the
   * gate is still open: its point's held setpoint follows it. Throws a ZkError when the node cannot
   * be written (the queue then leaves the command for a retry).
   */
  async applied(name: string, cmd: Command, ctimeMs: number, fence: { token: string }): Promise<void> {
    const release = cmd.value === null;
    if (!release && !(this.deps.handler.holds?.(cmd) ?? false)) return;
    const key = setpointName(cmd.device, cmd.point);
    await this.exclusive(async () => {
      if (release) {
        await this.store.remove(cmd.device, cmd.point);
        const was = this.held.get(key);
        this.held.delete(key);
        this.log.info({ setpoint: key, command: name, held: was?.value, heldBy: was?.command }, 'held setpoint released: fallback written, node deleted');
        return;
      }
      const doc: SetpointDocument = {
        device: cmd.device,
        point: cmd.point,
        value: cmd.value,
        command: name,
        token: fence.token,
        setAt: this.deps.wallClock.isoNow(),
        holdUntil: cmd.holdMs === undefined ? null : new Date(ctimeMs + cmd.holdMs).toISOString(),
        agentId: this.opts.agentId,
        issuedBy: cmd.issuedBy ?? null,
      };
      await this.store.write(doc);
      this.held.set(key, doc);
      this.log.info({ setpoint: key, value: doc.value, command: name, holdUntil: doc.holdUntil }, 'held setpoint set');
    });
    this.emit('change');
    this.kick(); // the next holdUntil may have changed
  }

  // ---- passes -------------------------------------------------------------------------------------

  private async pass(): Promise<void> {
    const hold = this.deps.lock.hold;
    if (this.closed || hold === null || this.deps.session.state !== 'connected' || !this.deps.gate.isOpen()) return;
    if (this.readyHold !== hold) {
      if (!(await this.takeOver(hold))) return;
      this.readyHold = hold;
      this.log.info({ held: this.held.size, token: hold.token }, 'held setpoints re-asserted: commands may run');
      this.emit('change');
      this.emit('ready');
    }
    await this.releaseEnded();
  }

  /** Reads setpoints/ and re-asserts what is in force. False: not done (tried again on the next gate open or after RETRY_MS). */
  private async takeOver(hold: LockHold): Promise<boolean> {
    const stored = await this.store.list();
    const now = await this.now();
    if (now === null) {
      this.log.warn("no estimate of ZooKeeper's clock yet: held setpoints (and commands) wait");
      this.retryIn(RETRY_MS);
      return false;
    }
    this.held.clear();
    for (const s of stored) {
      if (this.deps.lock.hold !== hold || !this.deps.gate.isOpen()) return false;
      const sp = s.setpoint;
      if (sp === null) {
        this.log.error({ setpoint: s.name, reason: s.reason }, 'not a held setpoint document: left as it is, not re-asserted');
        continue;
      }
      const reason = this.refusal(s.name, sp);
      if (reason !== null) {
        this.log.error({ setpoint: s.name, reason, command: sp.command }, "held setpoint cannot be held with this agent's config: left as it is, not re-asserted");
        continue;
      }
      this.held.set(s.name, sp);
      if (this.ended(sp, now)) continue; // released by releaseEnded(), not re-asserted
      const outcome = await this.write({ device: sp.device, point: sp.point, value: sp.value }, s.name);
      if (outcome === 'refused') return false;
      this.log.info(
        { setpoint: s.name, value: sp.value, command: sp.command, setBy: sp.agentId, token: sp.token, setAt: sp.setAt, issuedBy: sp.issuedBy, failed: outcome === 'failed' },
        outcome === 'done' ? 'held setpoint re-asserted' : 'held setpoint could not be re-asserted now: the device did not take it (refresh and drift checks try again)',
      );
    }
    return true;
  }

  /** Releases every held setpoint whose holdUntil has passed, then waits for the next one. */
  private async releaseEnded(): Promise<void> {
    this.clearTimer();
    const now = await this.now();
    if (now === null) return this.retryIn(RETRY_MS);
    let retryMs: number | null = null;
    for (const [key, sp] of [...this.held]) {
      if (!this.ended(sp, now)) continue;
      if (!this.deps.gate.isOpen()) return; // the next gate open (or holder) carries on
      const outcome = await this.exclusive(async (): Promise<WriteOutcome> => {
        if (this.held.get(key) !== sp) return 'done'; // replaced by a command meanwhile
        const result = await this.write({ device: sp.device, point: sp.point, value: null }, key);
        if (result !== 'done') return result;
        await this.store.remove(sp.device, sp.point);
        this.held.delete(key);
        this.log.info({ setpoint: key, command: sp.command, held: sp.value, holdUntil: sp.holdUntil }, 'held setpoint ended (holdMs): fallback written, node deleted');
        return 'done';
      });
      if (outcome === 'refused') return;
      if (outcome === 'failed') retryMs = RELEASE_RETRY_MS;
      else this.emit('change');
    }
    const next = this.nextEndMs(now);
    const waitMs = Math.min(retryMs ?? Number.POSITIVE_INFINITY, next ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(waitMs)) this.retryIn(Math.min(MAX_TIMER_MS, Math.max(0, waitMs)));
  }

  // ---- helpers ------------------------------------------------------------------------------------

  /** Why `sp` (stored as `name`) cannot be held by this agent's config, or null. */
  private refusal(name: string, sp: SetpointDocument): string | null {
    if (setpointName(sp.device, sp.point) !== name) return `the document names ${setpointName(sp.device, sp.point)}`;
    const cmd = { device: sp.device, point: sp.point, value: sp.value };
    try {
      const reason = this.deps.handler.check(cmd);
      if (reason !== null) return reason;
    } catch (err) {
      return `check failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    return (this.deps.handler.holds?.(cmd) ?? false) ? null : `${name} has no fallback`;
  }

  /** Applies `cmd` through the gate: refused when the gate closed around it (nothing more is written then). */
  private async write(cmd: Command, what: string): Promise<WriteOutcome> {
    const { gate } = this.deps;
    let refused = false;
    const guard = (): boolean => {
      const open = gate.guard();
      if (!open) refused = true;
      return open;
    };
    try {
      await this.deps.handler.apply(cmd, guard);
    } catch (err) {
      if (refused || !gate.isOpen()) return 'refused';
      this.log.warn({ err, setpoint: what, value: cmd.value }, cmd.value === null ? 'writing the fallback failed' : 'writing a held setpoint failed');
      return 'failed';
    }
    return refused || !gate.isOpen() ? 'refused' : 'done';
  }

  /** holdUntil reached, counting the clock estimate's uncertainty as elapsed (never hold a stale value). */
  private ended(sp: SetpointDocument, now: ServerNow): boolean {
    const until = holdUntilMs(sp);
    return until !== null && until <= now.nowMs + now.uncertaintyMs;
  }

  /** ms until the earliest holdUntil still ahead, or null. */
  private nextEndMs(now: ServerNow): number | null {
    let next: number | null = null;
    for (const sp of this.held.values()) {
      const until = holdUntilMs(sp);
      if (until !== null && (next === null || until < next)) next = until;
    }
    return next === null ? null : next - now.nowMs - now.uncertaintyMs + 1;
  }

  private now(): Promise<ServerNow | null> {
    return serverNow(this.deps.serverClock, this.deps.clockProbe, (err) => this.log.debug({ err }, 'clock probe failed'));
  }

  private retryIn(ms: number): void {
    this.clearTimer();
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutex.then(fn, fn);
    this.mutex = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
