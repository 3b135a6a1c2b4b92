// `gridkeeper run --config FILE`: the daemon in the foreground. JSON log lines on stdout.
// Exit 78 on a bad config (before any device or ZooKeeper is touched), 1 on a runtime failure
// (HTTP address in use), 0 after SIGTERM/SIGINT. Another live agent with our id is no exit (that
// would only be a restart loop under systemd): it is reported in the log, /healthz and `status`,
// and this one takes over once the other is gone (site-coordinator.ts). SIGHUP (`systemctl reload`)
// re-reads the site file and applies what it can on the running session (agent/reload.ts).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Agent } from '../agent/agent.js';
import { createLogger } from '../agent/logger.js';
import { notifySettings } from '../agent/notify-settings.js';
import { Reloader } from '../agent/reload.js';
import { SystemdNotifier } from '../agent/systemd-notify.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config/load.js';
import { loadConfigOrReport } from './config-file.js';
import { credentialsFileFindings } from './credentials-check.js';
import { CredentialsError } from '../coordination/errors.js';
import { EXIT, UsageError, type CliIO } from './io.js';

/** How long SIGTERM may take before we exit anyway (CONTRACT.md: exit 0 within 5 s). */
const SHUTDOWN_DEADLINE_MS = 4500;

export async function runCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } }, strict: true, allowPositionals: false });
  if (values.config === undefined || values.config === '') throw new UsageError('--config FILE is required');

  const file = values.config;
  const config = loadConfigOrReport(file, io);
  if (config === null) return EXIT.config;

  const logger = createLogger(config.log.level, io.env);
  // From here on SIGHUP no longer kills the process (its default action): one that comes while the
  // agent starts is kept and served once it runs.
  let reloader: Reloader | null = null;
  let hupWhileStarting = false;
  process.on('SIGHUP', () => {
    if (reloader === null) hupWhileStarting = true;
    else reloader.request();
  });
  let agent: Agent;
  try {
    agent = new Agent(config, { logger, version: packageVersion() });
    await agent.start();
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    io.stderr(`gridkeeper run: ${err instanceof Error ? err.message : String(err)}`);
    return err instanceof CredentialsError ? EXIT.config : EXIT.failure;
  }
  // READY=1 here: the config is loaded and the buses are started. Not after ZooKeeper: the agent
  // polls and serves health without it, and `systemctl start` must not hang while it is down.
  const notifier = new SystemdNotifier(notifySettings(io.env, process.pid), {
    clock: systemClock,
    logger: logger.child({ component: 'systemd' }),
    health: () => agent.health(),
  });
  notifier.start();
  // `validate`'s checks, credentials file included: a file validate refuses is refused by a reload.
  const running = new Reloader({
    load: () => loadConfig(file, { extraChecks: credentialsFileFindings }),
    target: agent,
    notifier,
    logger,
    env: io.env,
    clock: systemClock,
  });
  reloader = running;
  if (hupWhileStarting) running.request();

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string, code: number): void => {
      if (stopping) return;
      stopping = true;
      notifier.stopping();
      logger.info({ reason: why }, 'shutting down');
      const deadline = setTimeout(() => {
        logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting anyway');
        resolve(code);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      // A reload in progress ends first (it waits at most for a write in flight and closing buses).
      running
        .close()
        .then(() => agent.close())
        .then(
          () => {
            clearTimeout(deadline);
            resolve(code);
          },
          (err: unknown) => {
            logger.error({ err }, 'error during shutdown');
            clearTimeout(deadline);
            resolve(code);
          },
        );
    };
    process.once('SIGTERM', () => stop('SIGTERM', EXIT.ok));
    process.once('SIGINT', () => stop('SIGINT', EXIT.ok));
  }).finally(() => notifier.close());
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}
