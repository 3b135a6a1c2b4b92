import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Lets a reload swap the Modbus side between two device writes. Every write that reaches a device
 * from coordination (a command's apply, a held setpoint's refresh) runs through `run`; `hold` waits
 * until the writes in flight have ended (each is bounded by its bus timeoutMs and its place in the
 * bus queue) and keeps new ones waiting until the release it returns is called. A write kept
 * waiting still asks the actuation gate right before its bytes go out, after the swap, so waiting
 * here never lets a stale permission through.
 *
 * A `run` inside another (a command on a held point goes through the setpoint writer, which runs
 * its writes here too) is part of the outer write and does not wait: waiting would deadlock a
 * `hold` that waits for the outer one.
 */
export class WritePause {
  private readonly inFlight = new Set<Promise<unknown>>();
  private held: Promise<void> | null = null;
  private readonly insideRun = new AsyncLocalStorage<true>();

  /** A write is on its way to a device now. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  async run<T>(write: () => Promise<T>): Promise<T> {
    if (this.insideRun.getStore() === true) return write();
    while (this.held !== null) await this.held;
    // From here to the add nothing awaits: a hold() cannot slip in between.
    const pending = this.insideRun.run(true, write);
    this.inFlight.add(pending);
    try {
      return await pending;
    } finally {
      this.inFlight.delete(pending);
    }
  }

  /** Resolves once no write is in flight; no new one starts until the returned release is called. */
  async hold(): Promise<() => void> {
    while (this.held !== null) await this.held;
    let release!: () => void;
    this.held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await Promise.allSettled([...this.inFlight]);
    return () => {
      this.held = null;
      release();
    };
  }
}
