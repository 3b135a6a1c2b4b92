// SIGHUP (`systemctl reload gridkeeper@SITE`): read the site file again and apply what can be
// applied on the running ZooKeeper session (reload-plan.ts says what, the agent does it).
//
//   RELOADING=1 ... READY=1   to systemd around every reload, a refused one included
//   a bad file                one log line per problem, its msg exactly the line `validate` prints
//                             (FILE:LINE: path.to.key: message), then one line saying nothing
//                             changed; the agent runs on as before
//   restart keys              one warn line naming them; the rest is applied
//   a SIGHUP during a reload  coalesced: one more reload once this one is done (it reads the file
//                             as it is then), however many came meanwhile
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { ConfigError, formatProblem } from '../config/errors.js';
import type { SiteConfig } from '../config/types.js';
import { logLevel } from './logger.js';
import { planReload, type ReloadPlan, type RunningSession } from './reload-plan.js';

/** What a reload changes: the agent (agent.ts). */
export interface ReloadTarget {
  readonly config: SiteConfig;
  runningSession(): RunningSession;
  reconfigure(plan: ReloadPlan): Promise<void>;
}

export interface ReloaderDeps {
  /** Reads and checks the site file as `validate` does; throws ConfigError with every problem. */
  load: () => SiteConfig;
  target: ReloadTarget;
  /** systemd (systemd-notify.ts); inert without NOTIFY_SOCKET. */
  notifier: { reloading(): void; ready(): void };
  /** The process's root logger: a reload sets its level (log.level), unless LOG_LEVEL wins. */
  logger: Logger;
  env: NodeJS.ProcessEnv;
  clock: Clock;
}

export class Reloader {
  private readonly log: Logger;
  private running: Promise<void> | null = null;
  /** A SIGHUP came while a reload ran: run once more after it. */
  private again = false;
  private closed = false;

  constructor(private readonly deps: ReloaderDeps) {
    this.log = deps.logger.child({ component: 'reload' });
  }

  /** SIGHUP. Never throws; a reload that fails is logged and changes nothing more. */
  request(): void {
    if (this.closed) return;
    if (this.running !== null) {
      if (!this.again) this.log.info('reload requested while one runs: once more after it');
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /** No reload starts any more; resolves once the one running (if any) is done. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.reloadOnce();
    } while (this.again && !this.closed);
  }

  private async reloadOnce(): Promise<void> {
    const { target, notifier, clock } = this.deps;
    const file = target.config.file;
    const startMs = clock.monotonicMs();
    notifier.reloading();
    this.log.info({ file }, 'reloading the site file');
    try {
      let next: SiteConfig;
      try {
        next = this.deps.load();
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        // The same lines `validate` prints, one log line each, so that `journalctl -o cat | jq -r .msg` shows them as validate would.
        for (const problem of err.problems) this.log.error({ problem }, formatProblem(problem));
        this.log.error({ file, problems: err.problems.length }, 'reload refused: the site file has problems (above); nothing changed');
        return;
      }
      const plan = planReload(target.config, next, target.runningSession());
      if (plan.restartKeys.length > 0) {
        this.log.warn(
          { keys: plan.restartKeys },
          `changed settings need a restart to take effect (systemctl restart): ${plan.restartKeys.join(', ')}; they keep their running values, the rest is applied`,
        );
      }
      if (plan.refused !== null) {
        this.log.warn(
          { keys: plan.refused.keys, reason: plan.refused.reason },
          `bus and device changes refused, the running buses and devices stay: ${plan.refused.reason}; restart to apply them with the new session timeout`,
        );
      }
      await target.reconfigure(plan);
      if (plan.applied.includes('log.level')) this.setLogLevel(plan.effective.log.level);
      const { buses, devices } = plan.modbus;
      this.log.info(
        { file, applied: plan.applied, buses, devices, restartKeys: plan.restartKeys, tookMs: Math.round(clock.monotonicMs() - startMs) },
        'site file reloaded',
      );
    } catch (err) {
      this.log.error({ err }, 'reload failed');
    } finally {
      notifier.ready();
    }
  }

  private setLogLevel(configLevel: string): void {
    const level = logLevel(configLevel, this.deps.env);
    if (level !== configLevel) {
      this.log.info({ level, configLevel }, 'log.level changed in the file, but LOG_LEVEL in the environment wins');
      return;
    }
    this.deps.logger.level = level;
  }
}
