// `gridkeeper simulate --config FILE`: serves a simulated device for every device of the config on
// its bus, prints `ready` on stdout once every server listens, runs until SIGTERM/SIGINT.
// Logs (pino JSON) go to stderr: stdout carries nothing but `ready`.
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino, type LevelWithSilent, type Logger } from 'pino';
import { loadConfigOrReport } from './config-file.js';
import { SimulatedSite, SimulatorBindError, SunSpecImageError, frozenOptions, type SimulatedSiteOptions } from '../simulator/index.js';
import { EXIT, UsageError, type CliIO } from './io.js';

const USAGE = `usage: gridkeeper simulate --config FILE [--write-log FILE] [--freeze | --tick-ms N]

  --config FILE      site config; every device in it is served on its bus
  --write-log FILE   append every write a device receives to FILE, one JSON object per line
  --freeze           no physics: values stay as at simulated noon (written setpoints still act);
                     two frozen simulators of one config serve the same registers
  --tick-ms N        physics step interval in ms (default 200)`;

interface Args {
  config: string;
  writeLog: string | undefined;
  freeze: boolean;
  tickMs: number | undefined;
}

export async function simulateCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv);
  if (args === 'help') {
    io.stdout(USAGE);
    return EXIT.ok;
  }

  const config = loadConfigOrReport(args.config, io);
  if (config === null) return EXIT.config;

  const logger = stderrLogger(config.log.level, io.env);
  const options: SimulatedSiteOptions = { logger, ...(args.freeze ? frozenOptions() : {}) };
  if (args.tickMs !== undefined) options.tickMs = args.tickMs;
  if (args.writeLog !== undefined) {
    const file = args.writeLog;
    try {
      appendFileSync(file, '');
    } catch (err) {
      io.stderr(`gridkeeper simulate: cannot write the write log ${file}: ${err instanceof Error ? err.message : String(err)}`);
      return EXIT.failure;
    }
    // Synchronous on purpose: a test in another process reads the line as soon as the write is answered.
    options.onWrite = (record) => {
      try {
        appendFileSync(file, JSON.stringify(record) + '\n');
      } catch (err) {
        logger.error({ err, file }, 'cannot append to the write log');
      }
    };
  }

  let site: SimulatedSite;
  try {
    site = new SimulatedSite(config, options);
  } catch (err) {
    if (!(err instanceof SunSpecImageError)) throw err;
    io.stderr(`gridkeeper simulate: ${err.message}`);
    return EXIT.failure;
  }
  try {
    await site.start();
  } catch (err) {
    if (!(err instanceof SimulatorBindError)) throw err;
    io.stderr(`gridkeeper simulate: ${err.message}`);
    return EXIT.failure;
  }
  io.stdout('ready');
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping');
  await site.close();
  return EXIT.ok;
}

function parse(argv: string[]): Args | 'help' {
  let values: { config?: string; 'write-log'?: string; freeze?: boolean; 'tick-ms'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'write-log': { type: 'string' },
        freeze: { type: 'boolean' },
        'tick-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  if (values.help === true) return 'help';
  if (values.config === undefined || values.config === '') throw new UsageError(`--config FILE is required\n${USAGE}`);
  let tickMs: number | undefined;
  if (values['tick-ms'] !== undefined) {
    tickMs = Number(values['tick-ms']);
    if (!Number.isInteger(tickMs) || tickMs < 1) throw new UsageError(`--tick-ms must be a positive integer\n${USAGE}`);
    if (values.freeze === true) throw new UsageError(`--freeze and --tick-ms exclude each other\n${USAGE}`);
  }
  return { config: values.config, writeLog: values['write-log'], freeze: values.freeze === true, tickMs };
}

/** JSON log lines on stderr; LOG_LEVEL in the environment wins over the config's log.level. */
function stderrLogger(configLevel: LevelWithSilent, env: NodeJS.ProcessEnv): Logger {
  const fromEnv = env.LOG_LEVEL?.toLowerCase();
  const level = fromEnv !== undefined && isLevel(fromEnv) ? fromEnv : configLevel;
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

const LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function isLevel(text: string): text is LevelWithSilent {
  return LEVELS.includes(text);
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}
