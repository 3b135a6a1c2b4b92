// Child processes for end-to-end tests (the gridkeeper CLI, mbpoll, ...): stdout and stderr kept
// as lines, waits on a line with a timeout that quotes what the child printed last, and a registry
// so that nothing outlives the test file (killAllChildren() in afterAll; see child-registry.ts for
// the net under it).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../../src/package-root.js';
import { trackProcess } from './child-registry.js';

export { freePort, freePorts } from './ports.js';

/** The repository root (the folder of gridkeeper's package.json). */
export const REPO_ROOT = packageRoot();
/** The CLI as installed by `npm ci`: bin/gridkeeper, which loads dist/ (built by `npm test`). */
export const GRIDKEEPER_BIN = path.join(REPO_ROOT, 'bin', 'gridkeeper');

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  cwd?: string;
  /** Added to (not replacing) this process's environment. */
  env?: Record<string, string | undefined>;
  /** Name used in errors and in the leftover-process report; default the command line. */
  label?: string;
}

type LinePredicate = string | RegExp | ((line: string) => boolean);

const QUOTED_LINES = 20;

const running = new Set<ChildHandle>();

export class ChildExitedError extends Error {
  readonly code = 'CHILD_EXITED';
  constructor(message: string) {
    super(message);
    this.name = 'ChildExitedError';
  }
}

export class ChildHandle {
  readonly label: string;
  /** Complete stdout lines so far (all of them: indices stay valid for waitForLine's `from`). */
  readonly lines: string[] = [];
  /** Complete stderr lines so far. */
  readonly stderrLines: string[] = [];
  /** Resolves when the child has exited (never rejects). */
  readonly exited: Promise<ExitStatus>;
  private readonly child: ChildProcess;
  private status: ExitStatus | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(command: string, args: string[], opts: SpawnOptions = {}) {
    this.label = opts.label ?? [command, ...args].join(' ');
    this.child = spawn(command, args, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const untrack = this.child.pid === undefined ? () => {} : trackProcess(this.child.pid, this.label);
    running.add(this);
    collectLines(this.child.stdout, this.lines, () => this.notify());
    collectLines(this.child.stderr, this.stderrLines, () => this.notify());
    this.exited = new Promise((resolve) => {
      const done = (status: ExitStatus): void => {
        if (this.status) return;
        this.status = status;
        untrack();
        running.delete(this);
        this.notify();
        resolve(status);
      };
      // 'close' (not 'exit'): all output has been read by then.
      this.child.once('close', (code, signal) => done({ code, signal }));
      this.child.once('error', (err) => {
        this.stderrLines.push(`spawn failed: ${err.message}`);
        done({ code: null, signal: null });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Null while running. */
  get exitStatus(): ExitStatus | null {
    return this.status;
  }

  isRunning(): boolean {
    return this.status === null;
  }

  /** All stdout so far. */
  stdout(): string {
    return this.lines.join('\n');
  }

  stderr(): string {
    return this.stderrLines.join('\n');
  }

  /**
   * The first stdout line (from line index `from`, default 0: lines already printed count) that
   * matches. Rejects when the child exits first or after `timeoutMs`, quoting its last lines.
   */
  waitForLine(predicate: LinePredicate, timeoutMs: number, opts: { from?: number; stream?: 'stdout' | 'stderr' } = {}): Promise<string> {
    const lines = opts.stream === 'stderr' ? this.stderrLines : this.lines;
    const matches = toMatcher(predicate);
    let next = opts.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (; next < lines.length; next++) {
          const line = lines[next] ?? '';
          if (matches(line)) {
            finish();
            resolve(line);
            return;
          }
        }
        if (this.status) {
          finish();
          reject(new ChildExitedError(`${this.label} exited (${describeExit(this.status)}) before printing a line matching ${describe(predicate)}\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`Timeout after ${timeoutMs}ms waiting for ${this.label} to print a line matching ${describe(predicate)}\n${this.tail()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /**
   * The first stdout line that is a JSON object (a pino log line) accepted by `predicate`.
   * Other lines are skipped.
   */
  async waitForJson(predicate: (obj: Record<string, unknown>) => boolean, timeoutMs: number, opts: { from?: number } = {}): Promise<Record<string, unknown>> {
    const line = await this.waitForLine((l) => {
      const obj = parseJsonObject(l);
      return obj !== null && predicate(obj);
    }, timeoutMs, opts);
    const obj = parseJsonObject(line);
    if (obj === null) throw new Error('unreachable: the matched line is a JSON object');
    return obj;
  }

  /** Sends `signal` (default SIGTERM) if still running. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.isRunning()) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs` (default 5000); resolves with the exit status. */
  async stop(graceMs = 5000): Promise<ExitStatus> {
    if (!this.isRunning()) return this.exited;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }

  /** The last lines of stdout and stderr, for error messages. */
  tail(n = QUOTED_LINES): string {
    const out = this.lines.slice(-n).join('\n');
    const err = this.stderrLines.slice(-n).join('\n');
    return `--- last stdout lines of ${this.label} ---\n${out}\n--- last stderr lines ---\n${err}`;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Spawns `command args` (see ChildHandle). */
export function spawnChild(command: string, args: string[], opts: SpawnOptions = {}): ChildHandle {
  return new ChildHandle(command, args, opts);
}

/** Spawns `./bin/gridkeeper ARGS` with this Node binary, e.g. `spawnGridkeeper(['run', '--config', file])`. */
export function spawnGridkeeper(args: string[], opts: SpawnOptions = {}): ChildHandle {
  return new ChildHandle(process.execPath, [GRIDKEEPER_BIN, ...args], { label: `gridkeeper ${args.join(' ')}`, ...opts });
}

/**
 * Runs `command args` to completion (e.g. `gridkeeper validate`, `mbpoll`), killing it after
 * `timeoutMs` (default 30000). Resolves with its exit status and output; never rejects on a
 * non-zero exit.
 */
export async function runToCompletion(
  command: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs?: number } = {},
): Promise<ExitStatus & { stdout: string; stderr: string; timedOut: boolean }> {
  const child = new ChildHandle(command, args, opts);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 30_000);
  const status = await child.exited;
  clearTimeout(timer);
  return { ...status, stdout: child.stdout(), stderr: child.stderr(), timedOut };
}

/** SIGKILLs every child started through this module that still runs and waits for them. For afterAll. */
export async function killAllChildren(): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((c) => c.exited));
}

/** Children of this module still running (diagnostics). */
export function runningChildren(): readonly ChildHandle[] {
  return [...running];
}

function collectLines(stream: NodeJS.ReadableStream | null, into: string[], onLine: () => void): void {
  if (!stream) return;
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    if (parts.length === 0) return;
    for (const line of parts) into.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    onLine();
  });
  stream.on('end', () => {
    if (partial !== '') into.push(partial);
    partial = '';
    onLine();
  });
}

function toMatcher(predicate: LinePredicate): (line: string) => boolean {
  if (typeof predicate === 'string') return (line) => line.includes(predicate);
  if (predicate instanceof RegExp) return (line) => predicate.test(line);
  return predicate;
}

function describe(predicate: LinePredicate): string {
  if (typeof predicate === 'string') return JSON.stringify(predicate);
  if (predicate instanceof RegExp) return String(predicate);
  return 'the predicate';
}

function describeExit(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}

function parseJsonObject(line: string): Record<string, unknown> | null {
  if (!line.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
    return Object.fromEntries(Object.entries(value));
  } catch {
    return null;
  }
}
