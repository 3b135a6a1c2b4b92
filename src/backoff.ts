// Exponential backoff with jitter: initialMs, initialMs*factor, ... capped at maxMs. Each delay is
// drawn from [d*(1-jitter), d] so that many agents (or devices) that failed together do not retry
// in lockstep. The one backoff of gridkeeper: bus reconnects and devices that keep failing (drivers),
// new ZooKeeper clients after failures (coordination).

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per failure; default 2. */
  factor?: number;
  /** Fraction of each delay that is random, 0..1; default 0.2. */
  jitter?: number;
  /** Uniform in [0, 1); default Math.random. */
  random?: () => number;
}

export class Backoff {
  private failures = 0;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly opts: BackoffOptions) {
    if (!(opts.initialMs > 0) || !(opts.maxMs >= opts.initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs, got ${opts.initialMs} and ${opts.maxMs}`);
    }
    this.factor = opts.factor ?? 2;
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
    this.random = opts.random ?? Math.random;
  }

  /** Failures counted since the last reset(). */
  get attempts(): number {
    return this.failures;
  }

  /** Counts one more failure and returns how long to wait before the next try (ms). */
  next(): number {
    const exponent = Math.min(this.failures, 64);
    this.failures += 1;
    const ceilingMs = Math.min(this.opts.maxMs, this.opts.initialMs * this.factor ** exponent);
    return ceilingMs * (1 - this.jitter * this.random());
  }

  reset(): void {
    this.failures = 0;
  }
}
