// Small timing helpers shared by the recipes.
import { CoordinationTimeoutError } from './errors.js';

/** `promise`, or a CoordinationTimeoutError after `timeoutMs` (the promise itself is not cancelled). */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what = 'ZooKeeper request'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CoordinationTimeoutError(what, timeoutMs)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
