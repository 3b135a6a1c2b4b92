// CommandQueue: the lock holder's work on `commands/`. Active only while leader; handles
// `cmd-<10 digits>` in sequence order, one at a time:
//   1. results/cmd-N already exists (a predecessor wrote it, then died before deleting the
//      command): just delete the command.
//   2. parse the JSON; malformed => `rejected` with the reason, the raw text kept in the result.
//   3. handler.check(): unknown device/point, not writable, wrong type, out of range => `rejected`.
//   4. expiry by ZooKeeper's clock: age = serverNow - ctime of the command znode, where serverNow
//      comes from the ServerClock (offset learned from our own writes' mtime; a Pi may boot with
//      a wrong clock). Older than its ttlMs (or control.commandTtlMs) => `expired`, never applied.
//   5. handler.apply(cmd, guard) only while the actuation gate is open; guard() is asked again
//      right before the bytes go out.
//   6. the point's held setpoint follows an applied command (held-setpoints.ts, CONTRACT.md
//      section 7), then create results/cmd-N (create fails with NODEEXISTS if a result exists: never
//      two results), then delete the command.
// With held setpoints, the queue runs only once the holder has re-asserted them (`ready`), and a
// release (value null) of a point that holds nothing is `rejected`.
// If the gate closes before the write (guard() said no) or after the write but before the result,
// NO result is written and the command stays for the next holder (or for us once the gate opens
// again), which applies it again. That redo is safe because a command sets an absolute value
// (a setpoint, a limit, an on/off state): writing the same value twice leaves the device as writing
// it once. Only the holder that writes the result "owns" the command, and only one result can exist.
// Old results beyond `resultsKept` are pruned, oldest sequence first, and results older than
// `resultsMaxAgeMs` by ZooKeeper's clock (results-pruner.ts).
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { parseCommand, type CommandStatus, type ResultDocument } from './command.js';
import { isZkError } from './errors.js';
import type { HeldSetpoints, HeldSetpointsDeps } from './held-setpoints.js';
import { COMMAND_PREFIX, sortBySequence, type SitePaths } from './paths.js';
import { serverNow } from './server-now.js';
import { ResultsPruner } from './results-pruner.js';
import { withTimeout } from './timeout.js';
import type { ZkAcl } from './zk-client.js';

export interface CommandQueueOptions {
  paths: SitePaths;
  agentId: string;
  /** control.commandTtlMs: TTL of a command without its own ttlMs. */
  defaultTtlMs: number;
  /** control.resultsKept: results kept before the oldest are pruned. */
  resultsKept: number;
  /** control.resultsMaxAgeMs: results older than this by ZooKeeper's clock are pruned, ms. */
  resultsMaxAgeMs: number;
  /** ACL for results (set right after create); null keeps the library's open ACL. */
  resultAcl: readonly ZkAcl[] | null;
  /** How long close() waits for the command in flight. Default 4000 ms. */
  closeWaitMs?: number;
}

/** What the held setpoints act through (session, lock, gate, handler, clocks), and the held setpoints themselves. */
export interface CommandQueueDeps extends HeldSetpointsDeps {
  /** Held setpoints (CONTRACT.md section 7); absent: commands are one-shot writes. */
  setpoints?: HeldSetpoints;
}

type Outcome = 'done' | 'deferred';

export class CommandQueue extends EventEmitter<{ result: [name: string, result: ResultDocument] }> {
  private readonly log: Logger;
  private started = false;
  private closed = false;
  private runner: Promise<void> | null = null;
  private wake = false;
  private wakeUp: (() => void) | null = null;
  private readonly countsByStatus: Record<CommandStatus, number> = { applied: 0, rejected: 0, failed: 0, expired: 0 };
  private resultsSincePrune = 0;
  private readonly pruner: ResultsPruner;

  private readonly poke = (): void => {
    this.wake = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
    this.kick();
  };

  constructor(
    private readonly opts: CommandQueueOptions,
    private readonly deps: CommandQueueDeps,
  ) {
    super();
    this.log = deps.logger.child({ component: 'command-queue' });
    this.pruner = new ResultsPruner(
      { paths: opts.paths, limits: () => this.opts },
      { ...deps, logger: this.log, active: () => this.active() },
    );
  }

  /** A reload changed control.commandTtlMs, resultsKept or resultsMaxAgeMs: commands handled and prunes from now on use them. */
  setLimits(limits: { defaultTtlMs: number; resultsKept: number; resultsMaxAgeMs: number }): void {
    this.opts.defaultTtlMs = limits.defaultTtlMs;
    this.opts.resultsKept = limits.resultsKept;
    this.opts.resultsMaxAgeMs = limits.resultsMaxAgeMs;
  }

  /** Results written by this agent, by status (for metrics). */
  counts(): Readonly<Record<CommandStatus, number>> {
    return { ...this.countsByStatus };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.deps.lock.on('leader', this.poke);
    this.deps.lock.on('follower', this.poke);
    this.deps.gate.on('open', this.poke);
    this.deps.setpoints?.on('ready', this.poke);
    this.kick();
  }

  /** Stops taking commands; waits (bounded) for the one in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deps.lock.off('leader', this.poke);
    this.deps.lock.off('follower', this.poke);
    this.deps.gate.off('open', this.poke);
    this.deps.setpoints?.off('ready', this.poke);
    this.poke();
    if (this.runner) {
      await withTimeout(this.runner, this.opts.closeWaitMs ?? 4000, 'command in flight').catch((err: unknown) =>
        this.log.warn({ err }, 'command still in flight at close'),
      );
    }
  }

  private active(): boolean {
    return !this.closed && this.deps.lock.isLeader && this.deps.session.state === 'connected' && (this.deps.setpoints?.ready ?? true);
  }

  private kick(): void {
    if (this.runner || !this.started || !this.active()) return;
    this.runner = this.run()
      .catch((err: unknown) => this.log.error({ err }, 'command queue stopped on an error'))
      .finally(() => {
        this.runner = null;
        if (this.wake && this.active()) this.kick();
      });
  }

  private async run(): Promise<void> {
    this.log.info('command queue active (leader)');
    while (this.active()) {
      this.wake = false;
      let names: { name: string; seq: number }[];
      try {
        names = sortBySequence(await this.deps.session.getChildren(this.opts.paths.commands, this.poke), COMMAND_PREFIX);
      } catch (err) {
        this.log.debug({ err }, 'listing commands failed');
        await this.sleepUntilWoken(1000);
        continue;
      }
      let deferred = false;
      for (const { name } of names) {
        if (!this.active()) break;
        let outcome: Outcome;
        try {
          outcome = await this.handle(name);
        } catch (err) {
          this.log.warn({ err, command: name }, 'command handling interrupted; retrying');
          outcome = 'deferred';
        }
        if (outcome === 'deferred') {
          deferred = true;
          break;
        }
      }
      if (this.resultsSincePrune > 0 && (names.length === 0 || this.resultsSincePrune >= 50)) await this.prune();
      else if (this.pruner.ageCheckInMs() === 0) await this.prune();
      // Idle: wake for the next age check of the results (results-pruner.ts), at the latest.
      if (deferred || names.length === 0) await this.sleepUntilWoken(deferred ? this.retryDelayMs() : Math.min(60_000, this.pruner.ageCheckInMs()));
    }
    this.log.info('command queue inactive');
  }

  private async handle(name: string): Promise<Outcome> {
    const { session, handler, gate } = this.deps;
    const cmdPath = this.opts.paths.command(name);
    const resultPath = this.opts.paths.result(name);
    if ((await session.exists(resultPath)) !== null) {
      this.log.info({ command: name }, 'result already exists (a previous holder finished it); deleting the command');
      await this.deleteCommand(cmdPath);
      return 'done';
    }
    let got: { data: Buffer; stat: { ctimeMs: number; version: number } };
    try {
      got = await session.get(cmdPath);
    } catch (err) {
      if (isZkError(err, 'NONODE')) return 'done'; // deleted meanwhile
      throw err;
    }
    const startedAt = this.deps.wallClock.isoNow();
    const parsed = parseCommand(got.data);
    if (got.stat.version !== 0) {
      // Commands are created with an open ACL by most clients (and by every client until its
      // setAcl lands): whoever changed it since is not known to be the issuer. What the issuer
      // created is gone, so nothing is applied.
      const error = `rejected: the command was modified after it was created (data version ${got.stat.version}, expected 0); not applied`;
      return this.finish(name, { command: parsed.raw, status: 'rejected', error, startedAt });
    }
    if (!parsed.ok) return this.finish(name, { command: parsed.raw, status: 'rejected', error: parsed.reason, startedAt });
    const { command, raw } = parsed;
    let reason: string | null;
    try {
      reason = handler.check(command);
    } catch (err) {
      reason = `check failed: ${err instanceof Error ? err.message : String(err)}`;
    }
    reason ??= (await this.deps.setpoints?.releaseRefusal(command)) ?? null;
    if (reason !== null) return this.finish(name, { command: raw, status: 'rejected', error: reason, startedAt });

    const serverNow = await this.serverNowMs();
    if (serverNow === null) {
      this.log.warn({ command: name }, "no estimate of ZooKeeper's clock yet; command waits");
      return 'deferred';
    }
    // Conservative towards "never apply stale": the estimate's uncertainty counts as age.
    const ageMs = Math.round(serverNow.nowMs - got.stat.ctimeMs + serverNow.uncertaintyMs);
    const ttlMs = command.ttlMs ?? this.opts.defaultTtlMs;
    if (ageMs > ttlMs) {
      return this.finish(name, {
        command: raw,
        status: 'expired',
        error: `expired: ${ageMs}ms old by ZooKeeper's clock, ttl ${ttlMs}ms`,
        startedAt,
      });
    }

    if (!gate.isOpen()) return 'deferred';
    const fence = gate.fence();
    let refused = false;
    const guard = (): boolean => {
      const open = gate.guard();
      if (!open) refused = true;
      return open;
    };
    let status: CommandStatus = 'applied';
    let readBack: unknown = null;
    let error: string | null = null;
    try {
      readBack = (await handler.apply(command, guard)).readBack ?? null;
    } catch (err) {
      status = 'failed';
      error = err instanceof Error ? err.message : String(err);
    }
    if (refused || !gate.isOpen()) {
      // The gate closed before the write (nothing sent) or after it: no result, the command stays;
      // the next holder applies it again, which is safe for an absolute setpoint.
      this.log.warn({ command: name, refused, status }, 'actuation gate closed around the write; command left for the next holder');
      return 'deferred';
    }
    if (status === 'applied') await this.deps.setpoints?.applied(name, command, got.stat.ctimeMs, fence);
    return this.finish(name, { command: raw, status, error, readBack, startedAt, fence });
  }

  private async finish(
    name: string,
    r: {
      command: Record<string, unknown> | string;
      status: CommandStatus;
      error: string | null;
      startedAt: string;
      readBack?: unknown;
      fence?: { lock: string; token: string };
    },
  ): Promise<Outcome> {
    const { session, gate } = this.deps;
    if (!this.deps.lock.isLeader || session.state !== 'connected') return 'deferred';
    const fence = r.fence ?? gate.fence();
    const doc: ResultDocument = {
      command: r.command,
      status: r.status,
      agentId: this.opts.agentId,
      lock: fence.lock,
      token: fence.token,
      startedAt: r.startedAt,
      finishedAt: this.deps.wallClock.isoNow(),
      readBack: r.readBack ?? null,
      error: r.error,
    };
    const resultPath = this.opts.paths.result(name);
    try {
      await session.create(resultPath, Buffer.from(JSON.stringify(doc)), 'persistent');
    } catch (err) {
      if (!isZkError(err, 'NODEEXISTS')) throw err;
      this.log.warn({ command: name }, 'a result exists already; not writing a second one');
      await this.deleteCommand(this.opts.paths.command(name));
      return 'done';
    }
    if (this.opts.resultAcl) {
      await session.setAcl(resultPath, this.opts.resultAcl).catch((err: unknown) => this.log.warn({ err, resultPath }, 'setting the result ACL failed'));
    }
    this.countsByStatus[r.status]++;
    this.resultsSincePrune++;
    this.log.info({ command: name, status: r.status, error: r.error, token: fence.token }, 'command result written');
    this.emit('result', name, doc);
    await this.deleteCommand(this.opts.paths.command(name));
    return 'done';
  }

  private async deleteCommand(path: string): Promise<void> {
    try {
      await this.deps.session.delete(path);
    } catch (err) {
      if (!isZkError(err, 'NONODE')) throw err;
    }
  }

  /** Deletes the oldest results beyond resultsKept, and those older than resultsMaxAgeMs. */
  private async prune(): Promise<void> {
    this.resultsSincePrune = 0;
    await this.pruner.prune();
  }

  private serverNowMs(): Promise<{ nowMs: number; uncertaintyMs: number } | null> {
    return serverNow(this.deps.serverClock, this.deps.clockProbe, (err) => this.log.debug({ err }, 'clock probe failed'));
  }

  private retryDelayMs(): number {
    return Math.max(50, this.deps.session.negotiatedTimeoutMs / 6);
  }

  private sleepUntilWoken(maxMs: number): Promise<void> {
    if (this.wake || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, maxMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
