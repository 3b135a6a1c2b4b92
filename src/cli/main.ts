import { packageVersion } from '../package-root.js';
import { EXIT, processIO, UsageError, type CliIO } from './io.js';

type Verb = (args: string[], io: CliIO) => Promise<number>;

// Verbs are loaded on demand so that `validate` does not pay for the ZooKeeper binding.
const verbs: Record<string, () => Promise<Verb>> = {
  run: async () => (await import('./run.js')).runCommand,
  validate: async () => (await import('./validate.js')).validateCommand,
  status: async () => (await import('./status.js')).statusCommand,
  command: async () => (await import('./command.js')).commandCommand,
  simulate: async () => (await import('./simulate.js')).simulateCommand,
  scan: async () => (await import('./scan.js')).scanCommand,
};

// Every verb and option of CONTRACT.md section 1 and the extensions; docs/gridkeeper.1 (the man page)
// says the same at length. Keep the two in step.
export const USAGE = `usage: gridkeeper VERB [options]
       gridkeeper --help | --version

  run --config FILE
      the daemon, in the foreground: JSON log lines on stdout; SIGTERM/SIGINT finishes the
      write in flight, releases the site lock, closes the ZooKeeper session and exits 0;
      SIGHUP re-reads FILE and applies it on the same session (a bad file changes nothing)
  validate --config FILE
      check a site file: a summary and exit 0, or one line per problem
      (FILE:LINE: path.to.key: message) on stderr and exit 78
  status --zookeeper CONNECT --site SITE [--root PATH] [--json] [--credentials-file FILE]
      the site as ZooKeeper sees it: agents, lock holder, devices, pending commands, results;
      --root is the config's zookeeper.root (default /gridkeeper)
  command --zookeeper CONNECT --site SITE --device ID --point NAME --value V
          [--ttl-ms N] [--hold-ms N] [--wait-ms N] [--issued-by TEXT] [--root PATH] [--json]
          [--credentials-file FILE]
      submit a command and wait for its result (--wait-ms, default 10000); exit 0 when
      applied, 1 when rejected, failed, expired or no result in time. V is parsed as JSON
      (50, true, "on"), anything else is taken as a string; --ttl-ms overrides the
      config's control.commandTtlMs. On a point with a fallback the value is held until
      --value null releases it, or for --hold-ms
  simulate --config FILE [--write-log FILE] [--freeze | --tick-ms N]
      serve a simulated device for every device of the config, on its bus; prints \`ready\`
  scan --tcp HOST[:PORT] | --rtu PATH [--baud N] [--units LIST] [--timeout-ms N] [--json]
      find the Modbus units that answer (LIST like 1-10,126; default 1-247; --timeout-ms,
      default 300, per silent unit), walk their SunSpec models and print them with a device
      block to paste into a site file; reads only. Exit 0 when a SunSpec device was found,
      1 when none

environment:
  GRIDKEEPER_ZOOKEEPER         CONNECT when --zookeeper is not given
  GRIDKEEPER_CREDENTIALS_FILE  FILE when --credentials-file is not given (user:password, 0600)
  LOG_LEVEL                    fatal|error|warn|info|debug|trace, over the config's log.level

exit codes: 0 success, 1 runtime failure or command not applied, 2 usage error,
78 configuration error. More: \`man gridkeeper\`, \`gridkeeper simulate --help\`.`;

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    (verb === undefined ? io.stderr : io.stdout)(USAGE);
    return verb === undefined ? EXIT.usage : EXIT.ok;
  }
  if (verb === '--version') {
    io.stdout(`gridkeeper ${packageVersion()}`);
    return EXIT.ok;
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
