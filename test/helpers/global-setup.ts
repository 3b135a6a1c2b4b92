// Runs once in the main vitest process around all test files. It creates the directory in which
// test helpers record the pid of every process they start (see child-registry.ts); the teardown
// kills whatever a crashed test worker left behind, so `npm test` never leaves servers running.
// Builds nothing: `npm test` builds dist/ before vitest runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { PID_DIR_ENV, isSameProcessAlive, type TrackedProcess } from '../../tools/devtools/child-registry.js';

export default function setup(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridkeeper-test-pids-'));
  // Test workers are forked after global setup and inherit this environment.
  process.env[PID_DIR_ENV] = dir;
  return () => {
    const leftovers = killRecorded(dir);
    if (leftovers.length > 0) {
      console.warn(`[global-setup] killed processes left behind by tests: ${leftovers.join(', ')}`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

function killRecorded(dir: string): string[] {
  const killed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    let entry: TrackedProcess;
    try {
      entry = parseEntry(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')));
    } catch {
      continue;
    }
    if (!isSameProcessAlive(entry)) continue;
    try {
      process.kill(entry.pid, 'SIGKILL');
      killed.push(`${entry.label} (pid ${entry.pid})`);
    } catch {
      // Exited meanwhile.
    }
  }
  return killed;
}

const trackedProcessSchema = z.object({
  pid: z.number().int().gt(1),
  label: z.string(),
  startTicks: z.string().nullable(),
});

function parseEntry(value: unknown): TrackedProcess {
  return trackedProcessSchema.parse(value);
}
