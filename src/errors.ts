// Base of every error gridkeeper raises at a boundary. Callers switch on `code` and `retryable`,
// never on message text. Messages name the thing: bus, device, unit, address, what was expected.
export abstract class GridkeeperError extends Error {
  abstract readonly code: string;
  /** Whether trying the same thing again later can help (a timeout can; a bad config cannot). */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
