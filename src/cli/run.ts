// `gridkeeper run --config FILE`: the daemon in the foreground. JSON log lines on stdout.
// Exit 78 on a bad config (before any device or ZooKeeper is touched), 1 on a runtime failure
// (HTTP address in use, another live agent with our id), 0 after SIGTERM/SIGINT.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Agent } from '../agent/agent.js';
import { createLogger } from '../agent/logger.js';
import { loadConfigOrReport } from './config-file.js';
import { CredentialsError, DuplicateAgentError } from '../coordination/errors.js';
import { EXIT, UsageError, type CliIO } from './io.js';

/** How long SIGTERM may take before we exit anyway (CONTRACT.md: exit 0 within 5 s). */
const SHUTDOWN_DEADLINE_MS = 4500;

export async function runCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } }, strict: true, allowPositionals: false });
  if (values.config === undefined || values.config === '') throw new UsageError('--config FILE is required');

  const config = loadConfigOrReport(values.config, io);
  if (config === null) return EXIT.config;

  const logger = createLogger(config.log.level, io.env);
  let agent: Agent;
  try {
    agent = new Agent(config, { logger, version: packageVersion() });
    await agent.start();
  } catch (err) {
    logger.fatal({ err }, 'cannot start');
    io.stderr(`gridkeeper run: ${err instanceof Error ? err.message : String(err)}`);
    return err instanceof CredentialsError ? EXIT.config : EXIT.failure;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (why: string, code: number): void => {
      if (stopping) return;
      stopping = true;
      logger.info({ reason: why }, 'shutting down');
      const deadline = setTimeout(() => {
        logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting anyway');
        resolve(code);
      }, SHUTDOWN_DEADLINE_MS);
      deadline.unref();
      agent.close().then(
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
    agent.coordinator.on('error', (err) => {
      if (err instanceof DuplicateAgentError) {
        io.stderr(`gridkeeper run: ${err.message}`);
        stop('duplicate agent id', EXIT.failure);
      }
    });
  });
}

function packageVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}
