// 5. Failover: two agents of one site (session timeout 4000 ms on a server with tickTime 200 ms).
// Each run signals the leader (SIGTERM five times, then SIGKILL five times), submits a command right
// after, and times signal → the command's `applied` result written by the standby. The stopped
// agent is then replaced by a fresh one (new id), which queues behind the new leader.
import { DEFAULT_ROOT, SiteClient, SitePaths, type ZkSession } from '../../src/coordination/index.js';
import type { ChildHandle } from '../devtools/processes.js';
import { negotiatedTimeout, queuedAgents, startAgent, untilLeader, untilQueued } from './agent-process.js';
import { startLoopbackSite } from './loopback.js';
import { figure, summaryTable, type Section } from './report.js';
import { summarize } from './stats.js';

const SESSION_TIMEOUT_MS = 4000;
const RUNS_PER_SIGNAL = 5;
const SIGTERM_TARGET_MS = 500;
const SIGKILL_SLACK_MS = 1500;

export interface FailoverRun {
  signal: 'SIGTERM' | 'SIGKILL';
  from: string;
  to: string;
  /** Signal to the standby's `applied` result read by the bench. */
  ms: number;
  /** Commands submitted until one was applied by the standby (the old leader may take the first). */
  commands: number;
  /** Signal to the old leader's exit. */
  exitMs: number | null;
  exitCode: number | null;
}

export async function failover(dir: string, zookeeper: string, session: ZkSession): Promise<Section> {
  const site = await startLoopbackSite(dir, 'bench-failover', zookeeper, 1);
  const client = new SiteClient(session, new SitePaths(DEFAULT_ROOT, site.site));
  const agents = new Map<string, ChildHandle>();
  let next = 1;
  const spawn = (): string => {
    const id = `fo-${next++}`;
    agents.set(id, startAgent(site.agentConfig(id, { httpPort: null, sessionTimeoutMs: SESSION_TIMEOUT_MS }), `failover agent ${id}`));
    return id;
  };
  const runs: FailoverRun[] = [];
  let negotiatedMs = NaN;
  try {
    negotiatedMs = await negotiatedTimeout(zookeeper, SESSION_TIMEOUT_MS);
    const first = spawn();
    await untilLeader(client, first, 30_000);
    const second = spawn();
    await untilQueued(client, [first, second]);
    const signals = [...Array<'SIGTERM'>(RUNS_PER_SIGNAL).fill('SIGTERM'), ...Array<'SIGKILL'>(RUNS_PER_SIGNAL).fill('SIGKILL')];
    for (const [i, signal] of signals.entries()) {
      const [from, to] = await queuedAgents(client);
      const leader = from === undefined ? undefined : agents.get(from);
      if (from === undefined || to === undefined || leader === undefined) throw new Error(`run ${i + 1}: no leader and standby in the lock queue`);
      await untilLeader(client, from, 10_000);
      runs.push(await oneRun(client, leader, signal, from, to, i));
      agents.delete(from);
      const fresh = spawn();
      await untilQueued(client, [to, fresh]);
    }
  } finally {
    await Promise.all([...agents.values()].map((a) => a.stop(6000)));
    await site.close();
  }
  return section(runs, negotiatedMs);
}

async function oneRun(client: SiteClient, leader: ChildHandle, signal: 'SIGTERM' | 'SIGKILL', from: string, to: string, i: number): Promise<FailoverRun> {
  const t0 = performance.now();
  let exitMs: number | null = null;
  const exited = leader.exited.then((status) => {
    exitMs = performance.now() - t0;
    return status;
  });
  leader.kill(signal);
  for (let commands = 1; commands <= 5; commands++) {
    const name = await client.submit({ device: 'inv-1', point: 'activePowerLimit', value: 20 + ((i * 5 + commands) % 70), issuedBy: 'bench' });
    const waitMs = SESSION_TIMEOUT_MS * 3 + 10_000;
    const result = await client.awaitResult(name, waitMs);
    const ms = performance.now() - t0;
    if (result === null) throw new Error(`run ${i + 1}: Timeout after ${waitMs}ms waiting for the result of ${name}`);
    if (result.agentId === to && result.status === 'applied') {
      const status = await exited;
      return { signal, from, to, ms, commands, exitMs, exitCode: status.code };
    }
    if (result.agentId !== from) throw new Error(`run ${i + 1}: ${name} got ${String(result.status)} from ${String(result.agentId)}: ${String(result.error)}`);
  }
  throw new Error(`run ${i + 1}: ${from} kept applying commands after ${signal}`);
}

function section(runs: FailoverRun[], sessionMs: number): Section {
  const of = (signal: string): number[] => runs.filter((r) => r.signal === signal).map((r) => r.ms);
  const term = summarize(of('SIGTERM'));
  const kill = summarize(of('SIGKILL'));
  const baseline = { label: 'session timeout', value: sessionMs };
  const killLimit = sessionMs + SIGKILL_SLACK_MS;
  const figures = [
    figure({ id: 'failover.sigterm.max', label: `SIGTERM → applied by standby, worst of ${term.n}`, value: term.max, unit: 'ms', baseline, target: { text: `< ${SIGTERM_TARGET_MS} ms`, op: '<', limit: SIGTERM_TARGET_MS } }),
    figure({ id: 'failover.sigterm.p50', label: `SIGTERM → applied by standby, median`, value: term.p50, unit: 'ms', baseline }),
    figure({ id: 'failover.sigkill.max', label: `SIGKILL → applied by standby, worst of ${kill.n}`, value: kill.max, unit: 'ms', baseline, target: { text: `< session timeout + ${SIGKILL_SLACK_MS} ms (${killLimit} ms)`, op: '<', limit: killLimit } }),
    figure({ id: 'failover.sigkill.p50', label: `SIGKILL → applied by standby, median`, value: kill.p50, unit: 'ms', baseline }),
  ];
  const method = [
    `Two agents of one site, session timeout ${SESSION_TIMEOUT_MS} ms (granted: ${sessionMs} ms), ZooKeeper tickTime 200 ms, one simulated`,
    'inverter on 127.0.0.1. A run: signal the lock holder, submit a command at once, and time until the',
    'standby\'s `applied` result for it has been read. On SIGTERM the leader may still take a command before it',
    'lets go; then the bench submits another (column "commands"). The stopped agent is replaced by a new one',
    '(new agent id) queued behind the new leader before the next run.',
    '',
    'On SIGTERM the leader deletes its lock node and closes its session, so the standby is told at once. After',
    'SIGKILL nobody tells the server: it expires the session when it has not heard from the client for the',
    'session timeout, counted from the last ping (the client pings after a third of the timeout without traffic)',
    'and checked every tickTime. So a SIGKILL failover takes between about two thirds of the session timeout and',
    'the timeout plus a tick, plus the standby taking the lock and applying the command.',
    '',
    '| run | signal | from → to | signal → applied by standby | commands | old leader exited after | exit code |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...runs.map(
      (r, i) =>
        `| ${i + 1} | ${r.signal} | ${r.from} → ${r.to} | ${r.ms.toFixed(0)} ms | ${r.commands} | ${r.exitMs === null ? '—' : `${r.exitMs.toFixed(0)} ms`} | ${r.exitCode ?? '(signal)'} |`,
    ),
    '',
    ...summaryTable([
      ['SIGTERM', term],
      ['SIGKILL', kill],
    ]),
  ];
  const analysis: string[] = [];
  if (figures[0]?.verdict === 'miss') {
    analysis.push(
      'SIGTERM target missed: the time is the old leader\'s shutdown (stop polling, finish the write in flight,',
      'delete the lock node, close the session) plus the standby\'s takeover (watch event, lock check, actuation gate',
      'opening, then the command). The "old leader exited after" column shows how much of it was the shutdown; a slow',
      'shutdown points at a Modbus write or ZooKeeper request in flight (bounded by the bus timeoutMs).',
    );
  }
  if (figures[2]?.verdict === 'miss') {
    analysis.push(
      'SIGKILL target missed: the server expired the session later than the timeout plus a tick, or the standby',
      'took long to act after the lock node vanished. A shorter session timeout closes it at the price of more',
      'false failovers on a slow link; the time after the expiry is the same as in the SIGTERM runs.',
    );
  }
  return { id: '5', title: '5. Failover', figures, method, details: { sessionTimeoutMs: sessionMs, runs, sigtermMs: term, sigkillMs: kill }, analysis, error: null };
}
