// A pair of linked pseudo-terminals from socat: what one side writes, the other reads. The RTU
// simulator opens one end, the agent the other, as if both sat on one RS-485 line.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { trackProcess } from './child-registry.js';
import { makeTempDir, removeTempDir } from './temp-dirs.js';
import { sleep } from './wait.js';

export interface PtyPair {
  /** Symlink to one pty (e.g. for the simulator): `<tmpdir>/a`. */
  readonly a: string;
  /** Symlink to the other pty (e.g. for the agent): `<tmpdir>/b`. */
  readonly b: string;
  readonly pid: number;
  /** Stops socat (SIGTERM, SIGKILL after 2 s) and removes the links. */
  close(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2000;

export async function openPtyPair(): Promise<PtyPair> {
  const dir = makeTempDir('pty');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  // raw,echo=0: bytes pass untouched (no line discipline, no echo back to the writer).
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      stderr += `spawn failed: ${err.message}\n`;
      resolve();
    });
  });
  const pid = child.pid;
  const untrack = pid === undefined ? () => {} : trackProcess(pid, `socat ${a} <-> ${b}`);
  void exited.then(untrack);
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null && pid !== undefined;

  const close = async (): Promise<void> => {
    if (isRunning()) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => isRunning() && child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    removeTempDir(dir);
  };

  // Ready when both links exist and socat has entered its transfer loop.
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(fs.existsSync(a) && fs.existsSync(b) && stderr.includes('starting data transfer loop'))) {
    if (!isRunning()) {
      await close();
      throw new Error(`socat exited before the pty pair was ready (code ${child.exitCode}):\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`Timeout after ${START_TIMEOUT_MS}ms waiting for socat to link ${a} and ${b}:\n${stderr}`);
    }
    await sleep(20);
  }
  if (pid === undefined) throw new Error('unreachable: socat runs but has no pid');
  return { a, b, pid, close };
}
