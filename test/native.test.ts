// The native add-ons gridkeeper needs load in this Node and work: `zookeeper` (the C client,
// built by `npm ci`), `@serialport/bindings-cpp` (a prebuilt binary picked by node-gyp-build) and
// `unix-dgram` (sd_notify's datagram socket, built by `npm ci`).
// A missing toolchain or an ABI mismatch shows up here first, with a clear name, instead of
// somewhere in an end-to-end test.
import { createRequire } from 'node:module';
import path from 'node:path';
import { autoDetect } from '@serialport/bindings-cpp';
import { afterAll, describe, expect, it } from 'vitest';
import ZooKeeper from 'zookeeper';
import unixDgram from 'unix-dgram';
import { openPtyPair, type PtyPair } from '../tools/devtools/socat.js';
import { makeTempDir } from '../tools/devtools/temp-dirs.js';

const pairs: PtyPair[] = [];
afterAll(async () => {
  await Promise.all(pairs.map((p) => p.close()));
});

/** A property of an object the typings call `any`, read without casting. */
function member(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? Reflect.get(obj, key) : undefined;
}

describe('native binding: zookeeper', () => {
  it('loads the compiled C client and builds a client object without connecting', () => {
    const require = createRequire(import.meta.url);
    expect(require.resolve('zookeeper/build/Release/zookeeper.node')).toMatch(/zookeeper\.node$/);
    expect(ZooKeeper.constants.ZOO_EPHEMERAL).toBe(1);
    expect(ZooKeeper.constants.ZOO_SEQUENCE).toBe(2);
    const client = new ZooKeeper({ connect: '127.0.0.1:1', timeout: 2000 });
    // The wrapper holds an instance of the native class; init() (not called) would start connecting.
    const native: unknown = client.native;
    expect(typeof native).toBe('object');
    expect(typeof member(native, 'init')).toBe('function');
    expect(typeof member(native, 'a_create')).toBe('function');
  });
});

describe('native binding: @serialport/bindings-cpp', () => {
  it('autoDetect() gives the Linux binding, which lists ports', async () => {
    const binding = autoDetect();
    const ports = await binding.list();
    expect(Array.isArray(ports)).toBe(true);
    for (const port of ports) expect(typeof port.path).toBe('string');
  });

  it('opens a pseudo-terminal, sets 9600 8N1 and moves bytes through it', async () => {
    const pair = await openPtyPair();
    pairs.push(pair);
    const binding = autoDetect();
    const a = await binding.open({ path: pair.a, baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
    const b = await binding.open({ path: pair.b, baudRate: 9600 });
    try {
      expect(await a.getBaudRate()).toEqual({ baudRate: 9600 });
      const frame = Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x02, 0xc4, 0x0b]);
      await a.write(frame);
      const received = Buffer.alloc(frame.length);
      let got = 0;
      while (got < frame.length) {
        // read() resolves with at least one byte (the binding polls the fd).
        const { bytesRead } = await b.read(received, got, frame.length - got);
        got += bytesRead;
      }
      expect(received).toEqual(frame);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('native binding: unix-dgram', () => {
  it('loads the compiled module and moves a datagram between two AF_UNIX sockets', async () => {
    const require = createRequire(import.meta.url);
    expect(require.resolve('unix-dgram/build/Release/unix_dgram.node')).toMatch(/unix_dgram\.node$/);
    const at = path.join(makeTempDir('native-dgram'), 'sock');
    const received = new Promise<string>((resolve) => {
      const server = unixDgram.createSocket('unix_dgram', (buf) => {
        server.close();
        resolve(buf.toString());
      });
      server.bind(at);
    });
    const client = unixDgram.createSocket('unix_dgram');
    const buf = Buffer.from('READY=1');
    let sendError: Error | undefined;
    client.send(buf, 0, buf.length, at, (err) => {
      sendError = err;
    });
    client.close();
    expect(sendError).toBeUndefined();
    expect(await received).toBe('READY=1');
  });
});
