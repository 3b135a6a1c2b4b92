// A socat pty pair carries bytes both ways between two real serial ports (opened through the
// `serialport` package, as the RTU transport opens them), and close() removes socat and its links.
import fs from 'node:fs';
import { SerialPort } from 'serialport';
import { afterAll, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../../tools/devtools/socat.js';
import { waitFor } from '../../tools/devtools/wait.js';

const pairs: PtyPair[] = [];
const ports: SerialPort[] = [];

afterAll(async () => {
  await Promise.all(ports.filter((p) => p.isOpen).map((p) => new Promise((resolve) => p.close(resolve))));
  await Promise.all(pairs.map((p) => p.close()));
});

function open(file: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path: file, baudRate: 9600 }, (err) => (err ? reject(err) : resolve(port)));
    ports.push(port);
  });
}

function collect(port: SerialPort): () => Buffer {
  const chunks: Buffer[] = [];
  port.on('data', (chunk: Buffer) => chunks.push(chunk));
  return () => Buffer.concat(chunks);
}

describe('openPtyPair', () => {
  it('passes bytes both ways, unchanged (raw, no echo)', async () => {
    const pair = await openPtyPair();
    pairs.push(pair);
    expect(fs.realpathSync(pair.a)).toMatch(/^\/dev\/pts\/\d+$/);
    expect(fs.realpathSync(pair.b)).toMatch(/^\/dev\/pts\/\d+$/);

    const a = await open(pair.a);
    const b = await open(pair.b);
    const atA = collect(a);
    const atB = collect(b);
    // A Modbus RTU frame has bytes a terminal would interpret (0x03, 0x0a, 0x0d, 0x11, 0x13, 0x7f).
    const frame = Buffer.from([0x01, 0x03, 0x00, 0x0a, 0x0d, 0x11, 0x13, 0x7f, 0xff, 0x00]);
    a.write(frame);
    await waitFor('frame at b', () => atB().length >= frame.length, { timeoutMs: 5000 });
    expect(atB()).toEqual(frame);
    b.write(Buffer.from('reply'));
    await waitFor('reply at a', () => atA().length >= 5, { timeoutMs: 5000 });
    expect(atA().toString()).toBe('reply');
  });

  it('close() stops socat and removes the links', async () => {
    const pair = await openPtyPair();
    expect(() => process.kill(pair.pid, 0)).not.toThrow();
    await pair.close();
    expect(() => process.kill(pair.pid, 0)).toThrow();
    expect(fs.existsSync(pair.a)).toBe(false);
    expect(fs.existsSync(pair.b)).toBe(false);
  });
});
