// Last-resort cleanup of every process a test helper starts (ZooKeeper servers, socat, the agent).
// Each helper stops its own children in its stop()/close(); this registry catches the rest:
//  - killTracked(): SIGKILL every child of this test process still running (call it in afterAll);
//  - when the test process ends (exit, or the SIGTERM vitest ends a worker with) the same runs;
//  - each pid is also written to the directory the global setup creates (env GRIDKEEPER_TEST_PID_DIR),
//    so that its teardown can kill children of a test worker that died without running 'exit'.
// A pid is recorded with its start time (from /proc) so that a reused pid is never killed.
import fs from 'node:fs';
import path from 'node:path';
import { onProcessEnd } from './process-end.js';

export const PID_DIR_ENV = 'GRIDKEEPER_TEST_PID_DIR';

export interface TrackedProcess {
  pid: number;
  label: string;
  /** Field 22 of /proc/PID/stat (start time in clock ticks since boot); null when unreadable. */
  startTicks: string | null;
}

const tracked = new Map<number, TrackedProcess>();
let hookInstalled = false;

/** Start time of a process, used to tell it from a later process that got the same pid. */
export function processStartTicks(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 overall = index 19 after "pid (comm)"
  } catch {
    return null;
  }
}

/** True when `pid` is alive and is still the process that was recorded. Zombies count as gone. */
export function isSameProcessAlive(entry: TrackedProcess): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${entry.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return false;
    return entry.startTicks === null || fields[19] === entry.startTicks;
  } catch {
    return false;
  }
}

/** Record a child; returns the function that forgets it (call it once the child has exited). */
export function trackProcess(pid: number, label: string): () => void {
  if (!hookInstalled) {
    hookInstalled = true;
    onProcessEnd(0, () => void killTracked());
  }
  const entry: TrackedProcess = { pid, label, startTicks: processStartTicks(pid) };
  tracked.set(pid, entry);
  const file = pidFile(pid);
  if (file !== null) {
    try {
      fs.writeFileSync(file, JSON.stringify(entry));
    } catch {
      // The pid directory is a safety net only; a helper must not fail because of it.
    }
  }
  return () => {
    if (tracked.get(pid) !== entry) return;
    tracked.delete(pid);
    if (file !== null) fs.rmSync(file, { force: true });
  };
}

/** SIGKILL every tracked child that is still running; returns their labels. Synchronous. */
export function killTracked(): string[] {
  const killed: string[] = [];
  for (const entry of tracked.values()) {
    if (isSameProcessAlive(entry)) {
      try {
        process.kill(entry.pid, 'SIGKILL');
        killed.push(`${entry.label} (pid ${entry.pid})`);
      } catch {
        // Already gone.
      }
    }
  }
  return killed;
}

/** The children currently tracked (for diagnostics and tests of the helpers). */
export function trackedProcesses(): TrackedProcess[] {
  return [...tracked.values()];
}

function pidFile(pid: number): string | null {
  const dir = process.env[PID_DIR_ENV];
  if (!dir || !fs.existsSync(dir)) return null;
  return path.join(dir, `${process.pid}-${pid}.json`);
}
