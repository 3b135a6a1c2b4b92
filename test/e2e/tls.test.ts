// ZooKeeper over TLS (CONTRACT.md section 8): a ZooKeeper server with ONLY a secure client port
// (mutual TLS, ssl.clientAuth=need), the tunnel gridkeeper ships (stunnel, config/zk-tunnel.conf)
// with this gateway's certificate, and an agent that reaches the ensemble through it: it polls,
// publishes, takes the lock and applies a command. A tunnel holding a certificate from another CA
// gets nothing through. Certificates are made by the test with openssl.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllChildren } from '../../tools/devtools/processes.js';
import { startTunnel, type Tunnel } from '../../tools/devtools/stunnel.js';
import { makeTestPki, type TestPki } from '../../tools/devtools/tls-pki.js';
import { waitFor } from '../../tools/devtools/wait.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import { E2eSite, gridkeeper, type AgentProcess } from './harness.js';
import fs from 'node:fs';

let pki: TestPki;
let zk: ZkServer;
let tunnel: Tunnel;
let site: E2eSite;
let agent: AgentProcess;

beforeAll(async () => {
  pki = await makeTestPki();
  const client = { cert: fs.readFileSync(pki.client.cert, 'utf8'), key: fs.readFileSync(pki.client.key, 'utf8'), ca: fs.readFileSync(pki.caCert, 'utf8') };
  zk = await startZooKeeper({ tickTimeMs: 200, tls: { keyStoreFile: pki.server.pem, trustStoreFile: pki.caCert, client } });
  tunnel = await startTunnel({ cert: pki.client.cert, key: pki.client.key, caCert: pki.caCert, serverPort: zk.port });
  site = await E2eSite.start({ zkConnect: tunnel.connectString });
  agent = await site.startAgent('gw-tls');
});

afterAll(async () => {
  await killAllChildren();
  await zk?.stop();
});

describe('ZooKeeper through the TLS tunnel', () => {
  it('the server has no plain client port: a plain ZooKeeper client cannot use its port', async () => {
    const run = await gridkeeper(['status', '--zookeeper', zk.connectString, '--site', site.site], { timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/could not connect to ZooKeeper/);
  });

  it('the agent leads, publishes its readings and applies a command through the tunnel', async () => {
    // Leadership over TLS: a JVM TLS handshake on 2 shared cores can take a few seconds.
    await agent.leader(30_000);
    await waitFor(
      'readings of both devices through the tunnel',
      async () => {
        const run = await gridkeeper(['status', '--zookeeper', tunnel.connectString, '--site', site.site, '--json']);
        if (run.code !== 0) return undefined;
        const view = JSON.parse(run.stdout) as { devices: Record<string, { status?: string }>; lock: { holder: string | null } };
        return view.devices['inv-1']?.status === 'ok' && view.devices['wt-1']?.status === 'ok' && view.lock.holder === 'gw-tls' ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const run = await gridkeeper(['command', '--zookeeper', tunnel.connectString, '--site', site.site, '--device', 'inv-1', '--point', 'activePowerLimit', '--value', '37', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { status: string; agentId: string; readBack: unknown };
    expect(result).toMatchObject({ status: 'applied', agentId: 'gw-tls', readBack: 37 });
    expect(site.limitWrites().map((w) => w.percent)).toContain(37);
    const health = await agent.health();
    expect(health.body.zookeeper).toBe('connected');
  });

  it('a tunnel with a certificate from another CA is refused by the server', async () => {
    const rogue = await startTunnel({ cert: pki.rogue.cert, key: pki.rogue.key, caCert: pki.caCert, serverPort: zk.port });
    try {
      const run = await gridkeeper(['status', '--zookeeper', rogue.connectString, '--site', site.site], { timeoutMs: 30_000 });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/could not connect to ZooKeeper/);
      // stunnel says why: the server ended the handshake (it does not accept the certificate).
      expect(rogue.child.stderr()).toMatch(/SSL_connect|alert|certificate/i);
    } finally {
      await rogue.close();
    }
  });
});
