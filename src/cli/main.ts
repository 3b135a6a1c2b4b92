import { EXIT, processIO, UsageError, type CliIO } from './io.js';

type Verb = (args: string[], io: CliIO) => Promise<number>;

// Verbs are loaded on demand so that `validate` does not pay for the ZooKeeper binding.
const verbs: Record<string, () => Promise<Verb>> = {
  run: async () => (await import('./run.js')).runCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
  status: async () => (await import('./status.js')).statusCommand,
  command: async () => (await import('./command.js')).commandCommand,
  simulate: async () => (await import('./simulate.js')).simulateCommand,
};

export const USAGE = `usage: gridkeeper VERB [options]

  run --config FILE            the daemon, in the foreground
  validate --config FILE       check a config file (exit 78 when invalid)
  status --zookeeper CONNECT --site SITE [--root PATH] [--json]
  command --zookeeper CONNECT --site SITE --device ID --point NAME --value V
          [--ttl-ms N] [--wait-ms N] [--json]
  simulate --config FILE       serve simulated devices for every device in the config

--zookeeper may also come from GRIDKEEPER_ZOOKEEPER.`;

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    (verb === undefined ? io.stderr : io.stdout)(USAGE);
    return verb === undefined ? EXIT.usage : EXIT.ok;
  }
  const load = verbs[verb];
  if (load === undefined) {
    io.stderr(`gridkeeper: unknown verb '${verb}'\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await (await load())(rest, io);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.stderr(`gridkeeper ${verb}: ${err.message}`);
      return EXIT.usage;
    }
    throw err;
  }
}

/** node:util parseArgs rejects unknown options and missing values with these codes. */
function isParseArgsError(err: unknown): err is Error {
  const code: unknown = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
