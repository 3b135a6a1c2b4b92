// Temporary directories of test helpers (ZooKeeper data and logs, pty links). They are removed when
// the test process ends, except those marked kept (a server that failed to start keeps its log)
// and all of them when GRIDKEEPER_KEEP_TEST_FILES=1 (to read server logs after a failing run).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onProcessEnd } from './process-end.js';

const toRemove = new Set<string>();
let hookInstalled = false;

/** A fresh directory under the system temp dir, removed at process exit. */
export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gridkeeper-${prefix}-`));
  if (process.env.GRIDKEEPER_KEEP_TEST_FILES !== '1') {
    toRemove.add(dir);
    if (!hookInstalled) {
      hookInstalled = true;
      // After the children (order 0) are killed, so no server writes into a removed directory.
      onProcessEnd(1, () => {
        for (const d of toRemove) fs.rmSync(d, { recursive: true, force: true });
      });
    }
  }
  return dir;
}

/** Keep `dir` after exit (its path has been printed for someone to read). */
export function keepTempDir(dir: string): void {
  toRemove.delete(dir);
}

/** Remove `dir` now (unless kept or GRIDKEEPER_KEEP_TEST_FILES=1). */
export function removeTempDir(dir: string): void {
  if (!toRemove.has(dir)) return;
  toRemove.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}
