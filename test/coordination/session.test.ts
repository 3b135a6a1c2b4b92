// ZkSession against a real server: states, negotiated timeout and session id, typed errors,
// credentials file checks, an unreachable server at start, a stall, close exactly once.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { digestAclId, readCredentialsFile } from '../../src/coordination/credentials.js';
import { CredentialsError, ZkError } from '../../src/coordination/errors.js';
import { ZkSession, type SessionState } from '../../src/coordination/session.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { sleep, testLogger, waitFor } from './harness.js';

let zk: ZkServer;
const sessions: ZkSession[] = [];
const proxies: TcpProxy[] = [];

function session(connect: string, sessionTimeoutMs = 2000, credentialsFile?: string): ZkSession {
  const s = new ZkSession(
    { connect, sessionTimeoutMs, nativeLogLevel: 0, ...(credentialsFile ? { credentials: readCredentialsFile(credentialsFile) } : {}) },
    { logger: testLogger('session'), clock: systemClock },
  );
  sessions.push(s);
  return s;
}

function recordStates(s: ZkSession): { state: SessionState; previous: SessionState; atMs: number }[] {
  const seen: { state: SessionState; previous: SessionState; atMs: number }[] = [];
  s.on('state', (state, previous) => seen.push({ state, previous, atMs: performance.now() }));
  return seen;
}

beforeAll(async () => {
  zk = await startZooKeeper({ tickTimeMs: 200 });
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close()));
  await Promise.all(proxies.map((p) => p.close()));
  await zk?.stop();
});

describe('ZkSession', () => {
  it('connects, exposes the negotiated timeout and the session id, and closes exactly once', async () => {
    const s = session(zk.connectString, 2000);
    const states = recordStates(s);
    const announced: string[] = [];
    s.on('session', (id) => announced.push(id));
    s.start();
    await s.whenConnected();
    expect(s.state).toBe('connected');
    expect(s.negotiatedTimeoutMs).toBe(2000);
    expect(s.sessionId).toMatch(/^0x[0-9a-f]+$/);
    expect(announced).toEqual([s.sessionId]);

    // An ephemeral node carries our session id as its owner, in the same form.
    await s.create('/session-test-eph', Buffer.from('x'), 'ephemeral');
    const stat = await s.exists('/session-test-eph');
    expect(stat?.ephemeralOwner).toBe(s.sessionId);
    expect(stat?.ctimeMs).toBeGreaterThan(0);

    const observer = session(zk.connectString);
    observer.start();
    await observer.whenConnected();
    await s.close();
    await s.close(); // the second call is a no-op
    expect(s.state).toBe('lost');
    expect(states.map((x) => x.state)).toEqual(['connected', 'lost']);
    // Closing the session removes its ephemeral node at once (not after the timeout).
    expect(await observer.exists('/session-test-eph')).toBeNull();
    await expect(s.exists('/')).rejects.toMatchObject({ code: 'CLOSING' });
  });

  it('turns ZooKeeper errors into ZkError with the code name', async () => {
    const s = session(zk.connectString);
    s.start();
    await s.whenConnected();
    const missing = await s.get('/no/such/node').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ZkError);
    expect(missing).toMatchObject({ code: 'NONODE', retryable: false, op: 'get', path: '/no/such/node' });
    await s.create('/session-test-persist', Buffer.from(''), 'persistent');
    await expect(s.create('/session-test-persist', Buffer.from(''), 'persistent')).rejects.toMatchObject({ code: 'NODEEXISTS' });
    await s.create('/session-test-persist/child', Buffer.from(''), 'persistent');
    await expect(s.delete('/session-test-persist')).rejects.toMatchObject({ code: 'NOTEMPTY' });
    expect(await s.exists('/no/such/node')).toBeNull();
  });

  it('keeps trying while the server is unreachable at start, without throwing, and connects when it comes', async () => {
    // A proxy that refuses connections stands for a server that is down.
    const proxy = await startTcpProxy({ port: zk.port });
    proxies.push(proxy);
    await proxy.refuse(true, { mode: 'unlisten' });
    const s = session(proxy.address, 2000);
    s.start();
    await sleep(1500);
    expect(s.state).toBe('connecting');
    await proxy.refuse(false);
    // The C client retries every timeout/60 after a full round of failed servers: generous 10 s.
    await waitFor('the session to connect once the server is reachable', () => s.state === 'connected', { timeoutMs: 10_000 });
  });

  it('retries with backoff when the client cannot even start (unresolvable host)', async () => {
    const s = session('no-such-host.invalid:2181', 2000);
    s.start();
    await sleep(700);
    expect(s.state).toBe('connecting');
    await s.close();
    expect(s.state).toBe('lost');
  });

  it('suspends at once on an event-loop stall and becomes connected again once the server answers', async () => {
    const s = session(zk.connectString, 2000);
    s.start();
    await s.whenConnected();
    const id = s.sessionId;
    const states = recordStates(s);
    // Block the loop for 700 ms: more than a quarter of the 2000 ms timeout, less than the timeout.
    const until = performance.now() + 700;
    while (performance.now() < until) {
      /* busy */
    }
    expect(s.isStalled()).toBe(true); // seen synchronously, before any timer could run
    await waitFor('suspended then connected', () => states.some((x) => x.state === 'connected'), { timeoutMs: 5000 });
    expect(states[0]?.state).toBe('suspended');
    expect(s.sessionId).toBe(id); // the same session survived
  });

  it('reports suspended at once when the link drops and connected again on the same session', async () => {
    const proxy = await startTcpProxy({ port: zk.port });
    proxies.push(proxy);
    const s = session(proxy.address, 3000);
    s.start();
    await s.whenConnected();
    const id = s.sessionId;
    const states = recordStates(s);
    await proxy.refuse(true);
    const cutAt = performance.now();
    proxy.cutAll();
    await waitFor('suspended', () => s.state === 'suspended', { timeoutMs: 2000 });
    // A closed TCP connection is noticed as soon as the client reads it (bound generous for a loaded machine).
    expect((states[0]?.atMs ?? Infinity) - cutAt).toBeLessThan(500);
    await sleep(500);
    await proxy.refuse(false);
    await waitFor('connected again', () => s.state === 'connected', { timeoutMs: 3000 });
    expect(s.sessionId).toBe(id);
    expect(states.map((x) => x.state)).toEqual(['suspended', 'connected']);
  });

  it('expires: lost, then a new client with a new session', async () => {
    const proxy = await startTcpProxy({ port: zk.port });
    proxies.push(proxy);
    const s = session(proxy.address, 1000);
    const states = recordStates(s);
    const announced: string[] = [];
    s.on('session', (sid) => announced.push(sid));
    s.start();
    await s.whenConnected();
    const first = s.sessionId;
    await proxy.refuse(true);
    proxy.cutAll();
    await sleep(2500); // well past the 1000 ms timeout: the server expires the session
    await proxy.refuse(false);
    await waitFor('a new session', () => announced.length === 2 && s.state === 'connected', { timeoutMs: 5000 });
    expect(announced[1]).not.toBe(first);
    expect(states.map((x) => x.state)).toEqual(['connected', 'suspended', 'lost', 'connecting', 'connected']);
  });

  it('authenticates with digest credentials before any other request', async () => {
    const dir = makeTempDir('coord-creds');
    const file = path.join(dir, 'zk.credentials');
    fs.writeFileSync(file, 'agent:s3cret\n', { mode: 0o600 });
    const s = session(zk.connectString, 2000, file);
    s.start();
    await s.whenConnected();
    // The very first request may use an ACL that only the digest identity satisfies.
    await s.create('/session-test-auth', Buffer.from(''), 'persistent');
    await s.setAcl('/session-test-auth', [{ scheme: 'digest', id: digestAclId({ user: 'agent', password: 's3cret' }), perms: 31 }]);
    await s.set('/session-test-auth', Buffer.from('ok'));
    const stranger = session(zk.connectString);
    stranger.start();
    await stranger.whenConnected();
    await expect(stranger.set('/session-test-auth', Buffer.from('no'))).rejects.toMatchObject({ code: 'NOAUTH' });
  });

  // The session gets credentials already read; the one reader of the file is readCredentialsFile.
  it('refuses a credentials file readable by group or others, or malformed', async () => {
    const dir = makeTempDir('coord-creds');
    const open = path.join(dir, 'open.credentials');
    fs.writeFileSync(open, 'agent:s3cret\n', { mode: 0o644 });
    fs.chmodSync(open, 0o644);
    expect(() => readCredentialsFile(open)).toThrow(CredentialsError);
    expect(() => readCredentialsFile(open)).toThrow(/chmod 600/);
    try {
      readCredentialsFile(open);
    } catch (err) {
      expect(err).toMatchObject({ code: 'CREDENTIALS_INSECURE', retryable: false });
    }
    const bad = path.join(dir, 'bad.credentials');
    fs.writeFileSync(bad, 'no-colon-here\n', { mode: 0o600 });
    expect(() => readCredentialsFile(bad)).toThrow(expect.objectContaining({ code: 'CREDENTIALS_MALFORMED' }));
    expect(() => readCredentialsFile(path.join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'CREDENTIALS_UNREADABLE' }));
  });

  it('uses the negotiated timeout when the server grants less than requested', async () => {
    // The test server grants at most 30 s; ask for more.
    const s = session(zk.connectString, 40_000);
    s.start();
    await s.whenConnected();
    expect(s.requestedTimeoutMs).toBe(40_000);
    expect(s.negotiatedTimeoutMs).toBe(30_000);
  });

});
