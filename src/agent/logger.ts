import { pino, type DestinationStream, type Logger, type LevelWithSilent, type LoggerOptions } from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
/** Levels at which errors keep their stack traces. */
const STACK_LEVELS = new Set(['debug', 'trace']);

/**
 * The root logger of a process: JSON lines on stdout, one child per component
 * (`log.child({ component })`, `log.child({ device })`), errors under `err`, secrets redacted
 * wherever they might appear in a logged object. `LOG_LEVEL` in the environment wins over the
 * config so an operator can turn up detail with `systemctl edit` without touching the site file.
 * Stack traces only at debug and trace: above that an `err` is its type, message, code and context
 * (the journal of a gateway is on an SD card; a stack says nothing to an operator). Setting the
 * root's `level` later (a reload of `log.level`) changes its children's too, stack traces included.
 */
export function createLogger(
  configLevel: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  /** Where the lines go; default stdout, as pino writes it. */
  destination?: DestinationStream,
): Logger {
  const level = logLevel(configLevel, env);
  let root: Logger | null = null;
  const options: LoggerOptions = {
    level,
    base: { pid: process.pid },
    serializers: { err: (err: unknown) => (STACK_LEVELS.has(root?.level ?? level) ? withStack(err) : errWithoutStack(err)) },
    redact: {
      paths: ['password', '*.password', 'credentials', '*.credentials', 'secret', '*.secret', 'auth.digest', '*.auth.digest'],
      censor: '[redacted]',
    },
  };
  root = destination === undefined ? pino(options) : pino(options, destination);
  return root;
}

/** The level a process logs at: `LOG_LEVEL` from the environment when it names one, else the config's. */
export function logLevel(configLevel: string | undefined, env: NodeJS.ProcessEnv): LevelWithSilent {
  const fromEnv = env.LOG_LEVEL?.toLowerCase();
  return (fromEnv !== undefined && LEVELS.has(fromEnv) ? fromEnv : (configLevel ?? 'info')) as LevelWithSilent;
}

function withStack(err: unknown): unknown {
  return err instanceof Error ? pino.stdSerializers.err(err) : err;
}

function errWithoutStack(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const { stack: _stack, ...rest } = pino.stdSerializers.err(err);
  return rest;
}
