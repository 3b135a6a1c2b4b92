import { pino, type Logger, type LevelWithSilent } from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * The root logger of a process: JSON lines on stdout, one child per component
 * (`log.child({ component })`, `log.child({ device })`), errors under `err`, secrets redacted
 * wherever they might appear in a logged object. `LOG_LEVEL` in the environment wins over the
 * config so an operator can turn up detail with `systemctl edit` without touching the site file.
 */
export function createLogger(configLevel: string | undefined, env: NodeJS.ProcessEnv = process.env): Logger {
  const fromEnv = env.LOG_LEVEL?.toLowerCase();
  const level = (fromEnv !== undefined && LEVELS.has(fromEnv) ? fromEnv : (configLevel ?? 'info')) as LevelWithSilent;
  return pino({
    level,
    base: { pid: process.pid },
    redact: {
      paths: ['password', '*.password', 'credentials', '*.credentials', 'secret', '*.secret', 'auth.digest', '*.auth.digest'],
      censor: '[redacted]',
    },
  });
}
