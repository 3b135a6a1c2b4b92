// The safety nets under the helpers: killTracked() and the global teardown kill what a test left
// running, and never a process that merely reuses a recorded pid.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PID_DIR_ENV, killTracked, processStartTicks, trackProcess } from '../../tools/devtools/child-registry.js';
import setup from './global-setup.js';

const spawned: ChildProcess[] = [];

function sleeper(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  spawned.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error('sleep did not start');
  return Object.assign(child, { pid });
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

afterAll(() => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('child registry', () => {
  it('killTracked() SIGKILLs tracked children still running, and forgets untracked ones', async () => {
    const kept = sleeper();
    const forgotten = sleeper();
    trackProcess(kept.pid, 'sleep kept');
    const untrack = trackProcess(forgotten.pid, 'sleep forgotten');
    untrack();
    expect(killTracked()).toEqual([`sleep kept (pid ${kept.pid})`]);
    expect(await exited(kept)).toBe('SIGKILL');
    expect(forgotten.exitCode === null && forgotten.signalCode === null).toBe(true);
    forgotten.kill('SIGKILL');
  });

  it('the global teardown kills recorded leftovers, but not a pid with another start time', async () => {
    const previous = process.env[PID_DIR_ENV];
    const teardown = setup();
    const dir = process.env[PID_DIR_ENV] ?? '';
    try {
      const leftover = sleeper();
      trackProcess(leftover.pid, 'sleep leftover'); // writes its pid file into `dir`
      expect(fs.readdirSync(dir)).toHaveLength(1);
      // A record whose pid now belongs to another process (start time differs): must survive.
      const innocent = sleeper();
      fs.writeFileSync(
        path.join(dir, 'reused.json'),
        JSON.stringify({ pid: innocent.pid, label: 'old process', startTicks: `${Number(processStartTicks(innocent.pid)) - 1}` }),
      );
      teardown();
      expect(await exited(leftover)).toBe('SIGKILL');
      expect(innocent.exitCode === null && innocent.signalCode === null).toBe(true);
      expect(fs.existsSync(dir)).toBe(false);
    } finally {
      killTracked();
      process.env[PID_DIR_ENV] = previous;
    }
  });
});
