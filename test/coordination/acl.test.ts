// ACLs (issue: "With credentials configured, no client without them can create, change or delete
// anything under the site except commands/ children for those granted it; everyone may read.").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestAclId } from '../../src/coordination/credentials.js';
import { COMMAND_PREFIX, LOCK_PREFIX } from '../../src/coordination/paths.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { startZooKeeper, type ZkServer } from '../../tools/devtools/zookeeper.js';
import {
  Admin,
  pathsOf,
  siteConfig,
  startAgent,
  uniqueSite,
  waitFor,
  waitForLeader,
  type TestAgent,
  writeCredentials,
  zkCode,
  type WriteRecord,
} from './harness.js';

const T_MS = 2000;
/** A command name no test submits: the node a stranger tries to fake a result under. */
const UNUSED_COMMAND = `${COMMAND_PREFIX}0000009999`;
let zk: ZkServer;
let dir: string;
const clients: Admin[] = [];
const agents: TestAgent[] = [];

function credentials(name: string, line: string): string {
  return writeCredentials(dir, name, line);
}

async function client(credentialsFile?: string): Promise<Admin> {
  const c = await Admin.open(zk.connectString, credentialsFile === undefined ? {} : { credentialsFile });
  clients.push(c);
  return c;
}

/** A client with the agents' own credentials (as an operator's tool would use them). */
function agentView(credentialsFile: string): Promise<Admin> {
  return client(credentialsFile);
}

beforeAll(async () => {
  zk = await startZooKeeper({ tickTimeMs: 200 });
  dir = makeTempDir('coord-acl');
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await Promise.all(clients.map((c) => c.close()));
  await zk?.stop();
});

describe('ACLs with digest credentials', () => {
  it('strangers can read but get NOAUTH creating, setting or deleting; issuers may only create commands', async () => {
    const agentCreds = credentials('agent.credentials', 'gridkeeper:agent-secret');
    const emsCreds = credentials('ems.credentials', 'ems:ems-secret');
    const site = uniqueSite('acl');
    const config = siteConfig({
      site,
      agentId: 'gw-a',
      connect: zk.connectString,
      sessionTimeoutMs: T_MS,
      credentialsFile: agentCreds,
      commandIssuers: [`digest:${digestAclId({ user: 'ems', password: 'ems-secret' })}`],
    });
    const paths = pathsOf(config);
    const writes: WriteRecord[] = [];
    const agent = startAgent(config, writes);
    agents.push(agent);
    const token = await waitForLeader(agent, 10_000);

    const ems = await client(emsCreds);
    const stranger = await client();
    // The issuer submits a command; the agent applies it and writes the result.
    const cmd = await ems.site(paths).submit({ device: 'inv-1', point: 'activePowerLimit', value: 33, issuedBy: 'ems' });
    const results = await ems.site(paths).awaitResults([cmd], 10_000);
    expect(results.get(cmd)).toMatchObject({ status: 'applied', token });
    const lockName = agent.coordinator.lock.nodeName ?? '';
    const s = stranger.session;
    const data = Buffer.from('{}');

    // Everyone may read.
    expect(await zkCode(s.getChildren(paths.site))).toBe('OK');
    expect(await zkCode(s.get(paths.agent('gw-a')))).toBe('OK');
    expect(await zkCode(s.get(paths.reading('gw-a')))).toBe('OK');
    expect(await zkCode(s.getChildren(paths.lock))).toBe('OK');
    expect(await zkCode(s.get(paths.result(cmd)))).toBe('OK');

    // A stranger can create nothing under the site, commands/ included.
    expect(await zkCode(s.create(`${paths.site}/extra`, data, 'persistent'))).toBe('NOAUTH');
    expect(await zkCode(s.create(paths.agent('gw-x'), data, 'ephemeral'))).toBe('NOAUTH');
    expect(await zkCode(s.create(paths.reading('gw-x'), data, 'ephemeral'))).toBe('NOAUTH');
    expect(await zkCode(s.create(paths.lockNode(`x-${LOCK_PREFIX}`), data, 'ephemeral_sequential'))).toBe('NOAUTH');
    expect(await zkCode(s.create(paths.newCommand(), data, 'persistent_sequential'))).toBe('NOAUTH');
    expect(await zkCode(s.create(paths.result(UNUSED_COMMAND), data, 'persistent'))).toBe('NOAUTH');
    // ...change nothing (the agent's ephemeral nodes got their ACL right after being created)...
    for (const p of [paths.site, paths.agent('gw-a'), paths.reading('gw-a'), paths.lockNode(lockName), paths.commands, paths.result(cmd)]) {
      expect(await zkCode(s.set(p, data)), p).toBe('NOAUTH');
      expect(await zkCode(s.setAcl(p, [{ scheme: 'world', id: 'anyone', perms: 31 }])), p).toBe('NOAUTH');
    }
    // ...and delete nothing.
    for (const p of [paths.agent('gw-a'), paths.reading('gw-a'), paths.lockNode(lockName), paths.result(cmd), paths.results]) {
      expect(await zkCode(s.delete(p)), p).toBe('NOAUTH');
    }

    // The issuer may create commands, and nothing else.
    const e = ems.session;
    expect(await zkCode(e.create(paths.result(UNUSED_COMMAND), data, 'persistent'))).toBe('NOAUTH');
    expect(await zkCode(e.set(paths.agent('gw-a'), data))).toBe('NOAUTH');
    expect(await zkCode(e.delete(paths.result(cmd)))).toBe('NOAUTH');
    expect(await zkCode(e.create(paths.lockNode(`x-${LOCK_PREFIX}`), data, 'ephemeral_sequential'))).toBe('NOAUTH');

    // Results carry the site ACL: the agents' digest identity ALL, the world READ. (ZooKeeper shows
    // the digest hash only to clients with ADMIN on the node; others see `user:x`.)
    const acl = await agentView(agentCreds).then((c) => c.session.getAcl(paths.result(cmd)));
    expect(acl).toEqual(
      expect.arrayContaining([
        { scheme: 'digest', id: digestAclId({ user: 'gridkeeper', password: 'agent-secret' }), perms: 31 },
        { scheme: 'world', id: 'anyone', perms: 1 },
      ]),
    );
    expect(acl).toHaveLength(2);
    expect((await s.getAcl(paths.result(cmd))).map((a) => a.id)).toEqual(expect.arrayContaining(['gridkeeper:x', 'anyone']));
    expect(writes.map((w) => w.value)).toEqual([33]);
  });

  it('a command submitted by the operator client can be changed by nobody but its issuer while it waits', async () => {
    const agentCreds = credentials('agent-pending.credentials', 'gridkeeper:agent-secret');
    const emsCreds = credentials('ems-pending.credentials', 'ems:ems-secret');
    const config = siteConfig({
      site: uniqueSite('acl-pending'),
      agentId: 'gw-a',
      connect: zk.connectString,
      sessionTimeoutMs: T_MS,
      credentialsFile: agentCreds,
      commandIssuers: [`digest:${digestAclId({ user: 'ems', password: 'ems-secret' })}`, 'world:anyone'],
    });
    const paths = pathsOf(config);
    // The site's tree exists (an agent made it), but no agent runs now: the command stays pending.
    const agent = startAgent(config, []);
    await waitForLeader(agent, 10_000);
    await agent.close();

    const ems = await client(emsCreds);
    const stranger = await client();
    const byEms = await ems.site(paths).submit({ device: 'inv-1', point: 'activePowerLimit', value: 50, issuedBy: 'ems' });
    const byStranger = await stranger.site(paths).submit({ device: 'inv-1', point: 'activePowerLimit', value: 60 });
    const evil = Buffer.from(JSON.stringify({ device: 'inv-1', point: 'activePowerLimit', value: 999 }));
    for (const cmd of [byEms, byStranger]) {
      expect(await zkCode(stranger.session.set(paths.command(cmd), evil)), cmd).toBe('NOAUTH');
      expect(await zkCode(stranger.session.setAcl(paths.command(cmd), [{ scheme: 'world', id: 'anyone', perms: 31 }])), cmd).toBe('NOAUTH');
      expect((await stranger.session.get(paths.command(cmd))).stat.version).toBe(0);
    }
    // The issuer's own identity keeps ALL on its command; the world may read it.
    expect(await ems.session.getAcl(paths.command(byEms))).toEqual(
      expect.arrayContaining([
        { scheme: 'digest', id: digestAclId({ user: 'ems', password: 'ems-secret' }), perms: 31 },
        { scheme: 'world', id: 'anyone', perms: 1 },
      ]),
    );
    expect(await stranger.session.getAcl(paths.command(byStranger))).toEqual([{ scheme: 'world', id: 'anyone', perms: 1 }]);
  });

  it('world:anyone as a command issuer lets anyone submit commands, still nothing else', async () => {
    const agentCreds = credentials('agent2.credentials', 'gridkeeper:agent-secret');
    const config = siteConfig({
      site: uniqueSite('acl-open'),
      agentId: 'gw-a',
      connect: zk.connectString,
      sessionTimeoutMs: T_MS,
      credentialsFile: agentCreds,
      commandIssuers: ['world:anyone'],
    });
    const paths = pathsOf(config);
    const agent = startAgent(config, []);
    agents.push(agent);
    await waitForLeader(agent, 10_000);
    const stranger = await client();
    const cmd = await stranger.site(paths).submit({ device: 'inv-1', point: 'activePowerLimit', value: 5 });
    expect((await stranger.site(paths).awaitResults([cmd], 10_000)).get(cmd)?.status).toBe('applied');
    expect(await zkCode(stranger.session.delete(paths.result(cmd)))).toBe('NOAUTH');
    expect(await zkCode(stranger.session.set(paths.commands, Buffer.from('x')))).toBe('NOAUTH');
  });

  // Refusing a credentials file that group or others can read is the agent's: it reads the file
  // (test/agent/agent.test.ts); the coordinator gets the credentials already read.

  it('fixes the ACL of a site tree made earlier without credentials', async () => {
    const site = uniqueSite('acl-fix');
    const open = await client();
    // e.g. `gridkeeper command` ran before the agents had credentials: an open commands/ node.
    const paths = pathsOf(siteConfig({ site, agentId: 'x', connect: '', sessionTimeoutMs: T_MS }));
    await open.site(paths).submit({ device: 'inv-1', point: 'activePowerLimit', value: 7 });
    expect(await zkCode(open.session.set(paths.commands, Buffer.from('x')))).toBe('OK');
    const config = siteConfig({
      site,
      agentId: 'gw-a',
      connect: zk.connectString,
      sessionTimeoutMs: T_MS,
      credentialsFile: credentials('agent3.credentials', 'gridkeeper:agent-secret'),
    });
    const agent = startAgent(config, []);
    agents.push(agent);
    await agent.coordinator.ready();
    await waitFor('the open command to be handled', async () => (await open.site(paths).pendingCommands()).length === 0, { timeoutMs: 10_000 });
    expect(await zkCode(open.session.set(paths.commands, Buffer.from('x')))).toBe('NOAUTH');
    expect(await zkCode(open.session.create(paths.newCommand(), Buffer.from('{}'), 'persistent_sequential'))).toBe('NOAUTH');
  });
});
