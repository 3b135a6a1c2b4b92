import { describe, expect, it } from 'vitest';
import { parseHostPort } from '../../src/config/host-port.js';

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:8780', { host: '127.0.0.1', port: 8780 }],
    ['zk1.example:2181', { host: 'zk1.example', port: 2181 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['[fe80::1]:65535', { host: 'fe80::1', port: 65535 }],
  ])('%s', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it.each(['localhost', ':80', 'h:', 'h:65536', 'h:123456', '::1:80', 'a b:1', 'h:80,h:81'])('refuses %s', (text) => {
    expect(parseHostPort(text)).toBeNull();
  });
});
