// The process logger: stack traces only at debug and trace (CONTRACT.md section 8: the journal of a
// gateway is on an SD card).
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/agent/logger.js';
import { TimeoutError } from '../../src/drivers/errors.js';

function lineOf(level: string, log: (l: ReturnType<typeof createLogger>) => void): Record<string, unknown> {
  const lines: string[] = [];
  log(createLogger('info', { LOG_LEVEL: level }, { write: (s: string) => void lines.push(s) }));
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? '') as Record<string, unknown>;
}

describe('createLogger', () => {
  const err = new TimeoutError(1000, { bus: 'lan', device: 'inv-1', unit: 1 });

  it('at info: an err is its type, message, code and context, without the stack', () => {
    const line = lineOf('info', (l) => l.error({ err }, 'coordination error'));
    expect(line.err).toEqual({ type: 'TimeoutError', message: err.message, code: 'TIMEOUT', retryable: true, timeoutMs: 1000, context: err.context, name: 'TimeoutError' });
  });

  it('at debug: with the stack', () => {
    const line = lineOf('debug', (l) => l.warn({ err }, 'request failed'));
    expect((line.err as { stack?: string }).stack).toMatch(/^TimeoutError: Timeout after 1000ms/);
  });
});
