// Runs cleanup when the test process ends. Vitest ends each test-file worker (pool 'forks') with
// SIGTERM (SIGKILL 500 ms later) and Node runs no 'exit' handlers on a deadly signal, so the hooks
// run on 'exit' and on SIGTERM/SIGINT/SIGHUP; after a signal it is raised again with our listener
// gone, so the process still dies of it as it would have without us.

type Hook = { order: number; run: () => void };

const hooks: Hook[] = [];
let installed = false;
let ran = false;

/** Registers a synchronous cleanup; lower `order` runs first (children are killed before files go). */
export function onProcessEnd(order: number, run: () => void): void {
  hooks.push({ order, run });
  hooks.sort((a, b) => a.order - b.order);
  install();
}

function runAll(): void {
  if (ran) return;
  ran = true;
  for (const hook of hooks) {
    try {
      hook.run();
    } catch {
      // Cleanup is best effort; the next hook still runs.
    }
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  for (const s of SIGNALS) process.off(s, onSignal);
  // With no listener of ours left, the signal takes its default action (or another listener's).
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const s of SIGNALS) process.on(s, onSignal);
}
