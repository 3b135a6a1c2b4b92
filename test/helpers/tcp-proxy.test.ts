// The TCP proxy against a real echo server and a real ZooKeeper: it forwards, freezes silently
// (and delivers the held bytes on thaw), cuts, and refuses in both modes.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import ZooKeeper from 'zookeeper';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import { closeAllZk, connectZk, nodeExists } from './zk-test-client.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';

/** A client socket that collects everything it receives. */
class Probe {
  received = '';
  closed = false;
  readonly socket: net.Socket;
  readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.on('data', (chunk: Buffer) => (this.received += chunk.toString('utf8')));
    this.socket.on('error', () => {});
    this.socket.on('close', () => (this.closed = true));
    this.connected = new Promise((resolve, reject) => {
      this.socket.once('connect', () => resolve());
      this.socket.once('error', reject);
    });
  }
}

let echo: net.Server;
let echoPort = 0;
const probes: Probe[] = [];
const proxies: TcpProxy[] = [];

function probe(port: number): Probe {
  const p = new Probe(port);
  probes.push(p);
  return p;
}

async function proxy(): Promise<TcpProxy> {
  const p = await startTcpProxy({ port: echoPort });
  proxies.push(p);
  return p;
}

beforeAll(async () => {
  echo = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const address = echo.address();
  if (address === null || typeof address === 'string') throw new Error('echo server has no port');
  echoPort = address.port;
});

afterEach(async () => {
  for (const p of probes.splice(0)) p.socket.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await new Promise((resolve) => echo.close(resolve));
});

describe('TcpProxy', () => {
  it('forwards both ways and counts', async () => {
    const px = await proxy();
    const c = probe(px.port);
    await c.connected;
    c.socket.write('hello');
    await waitFor('echo through the proxy', () => c.received === 'hello', { timeoutMs: 5000 });
    expect(px.counters).toMatchObject({ accepted: 1, active: 1, bytesToTarget: 5, bytesFromTarget: 5 });
    expect(px.address).toBe(`127.0.0.1:${px.port}`);
  });

  it('freeze() holds bytes with the sockets open; thaw() delivers them', async () => {
    const px = await proxy();
    const c = probe(px.port);
    await c.connected;
    c.socket.write('a');
    await waitFor('first echo', () => c.received === 'a', { timeoutMs: 5000 });

    px.freeze();
    c.socket.write('b');
    const late = probe(px.port); // a connection made during the partition is held as well
    await late.connected;
    late.socket.write('x');
    await sleep(300); // long enough for a loopback echo to come back many times over
    expect(c.received).toBe('a');
    expect(late.received).toBe('');
    expect(c.closed || late.closed).toBe(false);

    px.thaw();
    await waitFor('held bytes after thaw', () => c.received === 'ab' && late.received === 'x', { timeoutMs: 5000 });
  });

  it('cutAll() closes every open connection', async () => {
    const px = await proxy();
    const a = probe(px.port);
    const b = probe(px.port);
    await Promise.all([a.connected, b.connected]);
    await waitFor('both links up', () => px.counters.active === 2, { timeoutMs: 5000 });
    expect(px.cutAll()).toBe(2);
    await waitFor('clients see the close', () => a.closed && b.closed, { timeoutMs: 5000 });
    expect(px.counters).toMatchObject({ active: 0, cut: 2 });

    const c = probe(px.port); // the proxy still accepts new ones
    await c.connected;
    c.socket.write('again');
    await waitFor('echo after cut', () => c.received === 'again', { timeoutMs: 5000 });
  });

  it("refuse(true) closes new connections at once, leaving open ones alone", async () => {
    const px = await proxy();
    const old = probe(px.port);
    await old.connected;
    await px.refuse(true);
    const turnedAway = probe(px.port);
    await waitFor('refused connection closed', () => turnedAway.closed, { timeoutMs: 5000 });
    expect(px.counters.refused).toBe(1);
    old.socket.write('still');
    await waitFor('old connection still forwards', () => old.received === 'still', { timeoutMs: 5000 });

    await px.refuse(false);
    const c = probe(px.port);
    c.socket.write('ok');
    await waitFor('accepted again', () => c.received === 'ok', { timeoutMs: 5000 });
  });

  it("refuse(true, { mode: 'unlisten' }) refuses at TCP level and listens again on the same port", async () => {
    const px = await proxy();
    const port = px.port;
    await px.refuse(true, { mode: 'unlisten' });
    const refused = probe(port);
    await expect(refused.connected).rejects.toThrow(/ECONNREFUSED/);
    await px.refuse(false);
    expect(px.port).toBe(port);
    const c = probe(port);
    c.socket.write('back');
    await waitFor('accepted again', () => c.received === 'back', { timeoutMs: 5000 });
  });
});

describe('TcpProxy in front of ZooKeeper', () => {
  let zk: ZkServer;
  afterAll(async () => {
    closeAllZk();
    await zk?.stop();
  });

  it('a frozen link lets the server expire the session behind it', async () => {
    zk = await startZooKeeper();
    const px = await startTcpProxy({ host: zk.host, port: zk.port });
    proxies.push(px);
    const behind = await connectZk(px.address, { sessionTimeoutMs: 1000 });
    const observer = await connectZk(zk.connectString);
    await behind.create('/behind-proxy', '', ZooKeeper.constants.ZOO_EPHEMERAL);
    expect(await nodeExists(observer, '/behind-proxy')).toBe(true);

    px.freeze();
    // The server expires the session 1000 ms (plus up to one 200 ms tick) after the last packet;
    // allow 10 s on a busy machine.
    await waitFor('ephemeral node to vanish', async () => !(await nodeExists(observer, '/behind-proxy')), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
  });
});
