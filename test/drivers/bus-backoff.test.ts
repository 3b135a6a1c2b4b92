import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/backoff.js';
import { RequestQueue } from '../../src/drivers/modbus/request-queue.js';

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs, without jitter at random() = 0', () => {
    const b = new Backoff({ initialMs: 250, maxMs: 30_000, random: () => 0 });
    const delays = Array.from({ length: 10 }, () => b.next());
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(b.attempts).toBe(10);
    b.reset();
    expect(b.next()).toBe(250);
  });

  it('takes up to `jitter` of each delay off at random, never above the cap', () => {
    const b = new Backoff({ initialMs: 1000, maxMs: 4000, jitter: 0.5, random: () => 0.999 });
    expect(b.next()).toBeCloseTo(500.5, 6);
    expect(b.next()).toBeCloseTo(1001, 6);
    for (let i = 0; i < 20; i++) {
      const d = new Backoff({ initialMs: 250, maxMs: 30_000 });
      for (let k = 0; k < 12; k++) {
        const ms = d.next();
        expect(ms).toBeGreaterThan(0);
        expect(ms).toBeLessThanOrEqual(30_000);
      }
    }
  });

  it('refuses nonsense bounds', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 100, maxMs: 10 })).toThrow(RangeError);
  });
});

describe('RequestQueue', () => {
  it('serves writes before reads, each in arrival order', () => {
    const q = new RequestQueue<string>();
    q.push('r1', 'read');
    q.push('r2', 'read');
    q.push('w1', 'write');
    q.push('r3', 'read');
    q.push('w2', 'write');
    expect(q.length).toBe(5);
    const order: string[] = [];
    for (let x = q.shift(); x !== undefined; x = q.shift()) order.push(x);
    expect(order).toEqual(['w1', 'w2', 'r1', 'r2', 'r3']);
  });
});
