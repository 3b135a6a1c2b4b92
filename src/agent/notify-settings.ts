// What systemd tells a Type=notify service through its environment, read as sd_notify(3) and
// sd_watchdog_enabled(3) read it. Parsed once, where the process environment is at hand (run.ts),
// and handed to the SystemdNotifier.

export interface NotifySettings {
  /** NOTIFY_SOCKET as given (a path, or `@name` for an abstract socket); null: nobody listens. */
  socket: string | null;
  /**
   * WATCHDOG_USEC in ms: systemd restarts the service when no WATCHDOG=1 came for this long. Null
   * when unset, not a positive integer, or meant for another process (WATCHDOG_PID).
   */
  watchdogTimeoutMs: number | null;
}

/** `env` is the process environment; `pid` ours, compared with WATCHDOG_PID. */
export function notifySettings(env: NodeJS.ProcessEnv, pid: number): NotifySettings {
  const socket = env.NOTIFY_SOCKET === undefined || env.NOTIFY_SOCKET === '' ? null : env.NOTIFY_SOCKET;
  return { socket, watchdogTimeoutMs: watchdogTimeoutMs(env, pid) };
}

function watchdogTimeoutMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = positiveInteger(env.WATCHDOG_USEC);
  if (usec === null) return null;
  // WATCHDOG_PID names the process the watchdog is meant for: a child that inherited the variables
  // (or a process started by a wrapper that did not exec) must not ping in its parent's name.
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && positiveInteger(env.WATCHDOG_PID) !== pid) return null;
  return usec / 1000;
}

function positiveInteger(text: string | undefined): number | null {
  if (text === undefined || !/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
