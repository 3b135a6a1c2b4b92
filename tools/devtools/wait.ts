// Polling waits for tests: every timeout names what was awaited and for how long.

export class WaitTimeoutError extends Error {
  readonly code = 'WAIT_TIMEOUT';
  constructor(what: string, timeoutMs: number, detail?: string) {
    super(`Timeout after ${timeoutMs}ms waiting for ${what}${detail ? `: ${detail}` : ''}`);
    this.name = 'WaitTimeoutError';
  }
}

/** Thrown by a probe of waitFor to stop waiting at once: what is awaited can no longer happen. */
export class WaitAbortedError extends Error {
  readonly code = 'WAIT_ABORTED';
  constructor(message: string) {
    super(message);
    this.name = 'WaitAbortedError';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than undefined/false, and returns
 * that value. A probe that throws counts as "not yet" (its last error is quoted on timeout), unless
 * it throws WaitAbortedError, which ends the wait at once. A probe that hangs is abandoned at the
 * deadline.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await withDeadline(Promise.resolve(probe()), deadline);
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof WaitAbortedError) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `last error: ${lastError.message}` : undefined;
      throw new WaitTimeoutError(what, opts.timeoutMs, detail);
    }
    await sleep(intervalMs);
  }
}

/** Rejects with "probe still pending" when `deadlineMs` (epoch ms) passes first. */
function withDeadline<T>(promise: Promise<T>, deadlineMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('probe still pending at the deadline')), Math.max(0, deadlineMs - Date.now()));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
