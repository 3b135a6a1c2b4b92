// ActuationGate: the only way a command may reach a device. The command handler calls guard() right
// before the bytes of a write go on the wire; it is true only while
//   1. the session is `connected` (it leaves that state synchronously in the client's event handler
//      when the link drops, and on an event-loop stall), and
//   2. we hold the site lock as verified by the server (SiteLock: lowest node, owned by our current
//      session), and
//   3. the local lease runs: now < leaseEnd = t_send + L, where t_send is the monotonic send time of
//      the last request the server acknowledged that found our lock node alive and ours, and
//   4. the event loop is not stalled right now (StallDetector.isStalled()).
// A cheap exists() on our lock node every T/6 renews the lease (and re-verifies the node).
//
// Timing proof (T = the NEGOTIATED session timeout; W = maxWriteMs, the longest a write may take
// once guard() said yes = the largest bus timeoutMs, handed in by the agent; config checks enforce
// W <= T_requested/4):
//  - The server received our acknowledged request at some real time >= t_send, so it expires the
//    session no earlier than t_send + T (ZooKeeper rounds expiry up to its tick, never down).
//  - Another agent's lock node can become lowest only after ours is deleted, i.e. after that expiry
//    (or after we delete it ourselves on close, when we no longer write). Its first write comes
//    after it has seen that, so after t_send + T.
//  - guard() says yes only before t_send + L, and the write then ends within W: before t_send + L + W.
//  - With L = T/2 and W <= T/4: t_send + L + W <= t_send + 3T/4 < t_send + T. Every write of the old
//    holder ends at least T/4 before the new holder can exist; that quarter absorbs clock-rate
//    differences and the gap between guard() and the bytes leaving the process.
//  - If the server granted a shorter T than requested, W may exceed T/4: then L shrinks to
//    3T/4 - W (warning logged), and when that leaves no room for renewals the gate stays closed.
//  - A stall (GC pause, blocked loop) between the lease check and the write is covered by the
//    same margin up to T/4; a longer one is caught by check 4 or has expired the lease.
// Residual risk, outside what timing can prove: a Modbus TCP request held up inside the network or a
// gateway for longer than its timeout may still be delivered late; the driver drops the connection
// on a timeout, which stops unsent data but not bytes already in the gateway.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { GridkeeperError } from '../errors.js';
import type { ZkSession } from './session.js';
import type { LockHold, SiteLock } from './site-lock.js';

export interface ActuationGateOptions {
  /** W: the longest a device write may take after guard() said yes (the largest bus timeoutMs). */
  maxWriteMs: number;
}

/** fence() while not holding the lock. */
export class NotLeaderError extends GridkeeperError {
  readonly code = 'NOT_LEADER';
  readonly retryable = true;
  constructor() {
    super('Not holding the site lock: no fencing token');
  }
}

export class ActuationGate extends EventEmitter<{ open: []; closed: [reason: string] }> {
  private readonly log: Logger;
  private started = false;
  private closedFlag = false;
  /** The hold the lease belongs to; a new hold (or none) invalidates it. */
  private leaseHold: LockHold | null = null;
  private leaseEndMonoMs = 0;
  private renewTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private reportedOpen = false;
  private warnedLeaseMs = 0;

  private readonly onState = (): void => {
    // Synchronous: guard() is false from this very moment (isOpen() also checks the state).
    if (this.deps.session.state !== 'connected') this.resetLease(`session ${this.deps.session.state}`);
  };
  private readonly onLeader = (hold: LockHold, verifiedAtMonoMs: number): void => {
    this.leaseHold = hold;
    this.leaseEndMonoMs = 0;
    this.extendLease(hold, verifiedAtMonoMs);
    this.scheduleRenewal();
  };
  private readonly onFollower = (reason: string): void => this.resetLease(reason);
  private readonly onStall = (): void => this.resetLease('event loop stalled');

  constructor(
    private readonly opts: ActuationGateOptions,
    private readonly deps: { session: ZkSession; lock: SiteLock; logger: Logger; clock: Clock },
  ) {
    super();
    this.log = deps.logger.child({ component: 'actuation-gate' });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.session.on('state', this.onState);
    this.deps.session.stallDetector.on('stall', this.onStall);
    this.deps.lock.on('leader', this.onLeader);
    this.deps.lock.on('follower', this.onFollower);
    const hold = this.deps.lock.hold;
    if (hold) {
      this.leaseHold = hold;
      this.scheduleRenewal(0);
    }
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.deps.session.off('state', this.onState);
    this.deps.session.stallDetector.off('stall', this.onStall);
    this.deps.lock.off('leader', this.onLeader);
    this.deps.lock.off('follower', this.onFollower);
    this.resetLease('closed');
  }

  /** Open: connected, lock held as verified by the server, inside the lease, loop not stalled. */
  isOpen(): boolean {
    if (this.closedFlag) return false;
    const hold = this.deps.lock.hold;
    return (
      this.deps.session.state === 'connected' &&
      hold !== null &&
      hold === this.leaseHold &&
      !this.deps.session.isStalled() &&
      this.deps.clock.monotonicMs() < this.leaseEndMonoMs
    );
  }

  /** Called by the command handler right before a write goes on the wire: false = do not send. */
  guard(): boolean {
    const open = this.isOpen();
    if (!open) this.log.warn({ reason: this.whyClosed() }, 'actuation gate refused a write');
    return open;
  }

  /** The lock and fencing token a result carries. Throws NotLeaderError without the lock. */
  fence(): { lock: string; token: string } {
    const hold = this.deps.lock.hold;
    if (!hold) throw new NotLeaderError();
    return { lock: hold.lockName, token: hold.token };
  }

  /**
   * W changed (a reload changed the buses). A larger W shortens the lease granted already, at once:
   * the lease ends at t_send + L, and t_send + L' = leaseEnd - (L - L') keeps L' + W' within 3T/4
   * for a write that starts from now on. A smaller W lengthens the lease only from the next renewal.
   * The agent raises W before a new bus can carry a write and lowers it after the old ones closed.
   */
  setMaxWriteMs(maxWriteMs: number): void {
    if (maxWriteMs === this.opts.maxWriteMs) return;
    const beforeMs = this.leaseMs();
    this.opts.maxWriteMs = maxWriteMs;
    const afterMs = this.leaseMs();
    this.log.info({ maxWriteMs, leaseMs: afterMs }, 'largest bus timeout changed: lease length follows');
    if (afterMs >= beforeMs || this.leaseEndMonoMs === 0) return;
    this.leaseEndMonoMs -= beforeMs - afterMs;
    const hold = this.leaseHold;
    if (hold !== null) this.extendLease(hold, Number.NEGATIVE_INFINITY); // re-arms the expiry timer at the new end
    this.report('lease shortened for a longer bus timeout');
  }

  /** ms left on the lease (0 when closed). */
  leaseRemainingMs(): number {
    return this.isOpen() ? this.leaseEndMonoMs - this.deps.clock.monotonicMs() : 0;
  }

  /** The lease length L for the negotiated timeout (see the proof above). */
  leaseMs(): number {
    const timeoutMs = this.deps.session.negotiatedTimeoutMs;
    const maxWriteMs = this.opts.maxWriteMs;
    const leaseMs = Math.min(timeoutMs / 2, (3 * timeoutMs) / 4 - maxWriteMs);
    if (leaseMs < timeoutMs / 2 && this.warnedLeaseMs !== leaseMs) {
      this.warnedLeaseMs = leaseMs;
      this.log.warn(
        { negotiatedTimeoutMs: timeoutMs, maxWriteMs, leaseMs },
        leaseMs > this.renewIntervalMs()
          ? 'negotiated session timeout is short for the bus timeout: lease shortened'
          : 'negotiated session timeout is too short for the bus timeout: the actuation gate stays closed',
      );
    }
    return leaseMs > this.renewIntervalMs() ? leaseMs : 0;
  }

  private renewIntervalMs(): number {
    return this.deps.session.negotiatedTimeoutMs / 6;
  }

  private whyClosed(): string {
    if (this.closedFlag) return 'gate closed';
    if (this.deps.session.state !== 'connected') return `session ${this.deps.session.state}`;
    if (!this.deps.lock.hold) return 'not holding the site lock';
    if (this.deps.lock.hold !== this.leaseHold) return 'lock not verified yet';
    if (this.deps.session.isStalled()) return 'event loop stalled';
    return 'lease expired';
  }

  private extendLease(hold: LockHold, sentAtMonoMs: number): void {
    if (this.closedFlag || hold !== this.leaseHold || this.deps.lock.hold !== hold) return;
    if (this.deps.session.state !== 'connected') return;
    const endMs = sentAtMonoMs + this.leaseMs();
    if (endMs > this.leaseEndMonoMs) this.leaseEndMonoMs = endMs;
    this.report();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    const leftMs = this.leaseEndMonoMs - this.deps.clock.monotonicMs();
    // Node's timers count from the event loop's cached time and may fire a few ms early: if the lease still runs then, re-arm.
    if (leftMs > 0) this.expiryTimer = setTimeout(() => (this.isOpen() ? this.extendLease(hold, Number.NEGATIVE_INFINITY) : this.report('lease expired')), leftMs + 1);
  }

  private scheduleRenewal(delayMs = this.renewIntervalMs()): void {
    if (this.closedFlag || this.renewTimer) return;
    this.renewTimer = setTimeout(() => {
      this.renewTimer = null;
      void this.renew();
    }, delayMs);
  }

  private async renew(): Promise<void> {
    const hold = this.leaseHold;
    if (this.closedFlag || !hold || this.deps.lock.hold !== hold) return;
    if (this.deps.session.state === 'connected') {
      const sentAt = await this.deps.lock.verify();
      if (sentAt !== null) this.extendLease(hold, sentAt);
    }
    if (this.deps.lock.hold === hold) this.scheduleRenewal();
  }

  private resetLease(reason: string): void {
    this.leaseEndMonoMs = 0;
    if (this.deps.lock.hold !== this.leaseHold) this.leaseHold = null;
    if (this.renewTimer && !this.leaseHold) {
      clearTimeout(this.renewTimer);
      this.renewTimer = null;
    }
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.report(reason);
  }

  /** Emits open/closed on a change of isOpen(). */
  private report(reason?: string): void {
    const open = this.isOpen();
    if (open === this.reportedOpen) return;
    this.reportedOpen = open;
    if (open) {
      this.log.info({ leaseMs: Math.round(this.leaseEndMonoMs - this.deps.clock.monotonicMs()) }, 'actuation gate open');
      this.emit('open');
    } else {
      const why = reason ?? this.whyClosed();
      this.log.warn({ reason: why }, 'actuation gate closed');
      this.emit('closed', why);
    }
  }
}
