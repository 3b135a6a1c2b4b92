// Every kind of bad command, end to end: submitted with `gridkeeper command` (as an operator would)
// and as raw znodes (as any other program may write them), handled by a `gridkeeper run` leader.
// Each gets a `rejected` or `expired` result with the reason, `command` exits 1, and the simulated
// devices never receive a write. A valid command at the end shows the path to the device works.
import { describe, expect, it } from 'vitest';
import { spawnGridkeeper } from '../../tools/devtools/processes.js';
import { sleep, waitFor } from '../../tools/devtools/wait.js';
import { e2eSuite, E2eSite, gridkeeper, type CliRun } from './harness.js';

/** The site's control.commandTtlMs: short, so a command can grow old while no agent runs. */
const SITE_TTL_MS = 2500;

const suite = e2eSuite({ tickTimeMs: 200 });

interface CliCase {
  what: string;
  args: string[];
  reason: RegExp;
}

// Against config/…-style devices of the harness: inv-1 (generic-inverter: activePowerLimit 0..100 %,
// enabled bool coil, activePower read-only) and wt-1 (generic-turbine).
const CLI_CASES: CliCase[] = [
  { what: 'unknown device', args: ['--device', 'inv-9', '--point', 'activePowerLimit', '--value', '10'], reason: /device: unknown device 'inv-9'/ },
  { what: 'unknown point', args: ['--device', 'inv-1', '--point', 'reactivePowerLimit', '--value', '10'], reason: /point: device 'inv-1' has no point 'reactivePowerLimit'/ },
  { what: 'read-only point', args: ['--device', 'inv-1', '--point', 'activePower', '--value', '10'], reason: /inv-1\.activePower is read-only/ },
  { what: 'text for a numeric point', args: ['--device', 'inv-1', '--point', 'activePowerLimit', '--value', 'fifty'], reason: /activePowerLimit is numeric .*got "fifty"/ },
  { what: 'a JSON string for a numeric point', args: ['--device', 'wt-1', '--point', 'curtailmentSetpoint', '--value', '"800"'], reason: /curtailmentSetpoint is numeric .*got "800"/ },
  { what: 'a number for a bool point', args: ['--device', 'inv-1', '--point', 'enabled', '--value', '2'], reason: /inv-1\.enabled is a bool: expected true or false, got 2/ },
  { what: 'above max', args: ['--device', 'inv-1', '--point', 'activePowerLimit', '--value', '150'], reason: /150 is above max 100/ },
  { what: 'below min', args: ['--device', 'wt-1', '--point', 'curtailmentSetpoint', '--value=-5'], reason: /-5 is below min 0/ },
];

interface RawCase {
  what: string;
  doc: Record<string, unknown> | string;
  reason: RegExp;
}

const RAW_CASES: RawCase[] = [
  { what: 'malformed JSON', doc: '{"device":"inv-1","point":"activePowerLimit","value":', reason: /^malformed JSON: / },
  { what: 'not JSON at all', doc: 'set inv-1 limit 50', reason: /^malformed JSON: / },
  { what: 'an array', doc: '[{"device":"inv-1","point":"activePowerLimit","value":50}]', reason: /^malformed command: expected a JSON object$/ },
  { what: 'a number', doc: '50', reason: /^malformed command: expected a JSON object$/ },
  { what: 'an empty znode', doc: '', reason: /^malformed JSON: / },
  { what: 'missing value', doc: { device: 'inv-1', point: 'activePowerLimit', issuedBy: 'e2e' }, reason: /^value: missing$/ },
  // null releases a held setpoint (CONTRACT.md section 7); here none is held.
  { what: 'null value', doc: { device: 'inv-1', point: 'activePowerLimit', value: null }, reason: /^value: null releases a held setpoint, and inv-1\.activePowerLimit holds none: nothing to release$/ },
  { what: 'missing device', doc: { point: 'activePowerLimit', value: 50 }, reason: /^device: must be a non-empty string$/ },
  { what: 'numeric point name', doc: { device: 'inv-1', point: 7, value: 50 }, reason: /^point: must be a non-empty string$/ },
  { what: 'unknown device', doc: { device: 'meter-7', point: 'activePowerLimit', value: 50 }, reason: /unknown device 'meter-7'/ },
  { what: 'read-only point', doc: { device: 'wt-1', point: 'windSpeed', value: 3 }, reason: /wt-1\.windSpeed is read-only/ },
  { what: 'string for numeric', doc: { device: 'inv-1', point: 'activePowerLimit', value: '50' }, reason: /is numeric .*got "50"/ },
  { what: 'bool for numeric', doc: { device: 'inv-1', point: 'activePowerLimit', value: true }, reason: /is numeric .*got true/ },
  { what: 'number for bool', doc: { device: 'wt-1', point: 'running', value: 7 }, reason: /wt-1\.running is a bool: expected true or false, got 7/ },
  { what: 'string for bool', doc: { device: 'wt-1', point: 'running', value: 'on' }, reason: /wt-1\.running is a bool/ },
  { what: 'object value', doc: { device: 'inv-1', point: 'activePowerLimit', value: { pct: 5 } }, reason: /is numeric/ },
  { what: 'out of range', doc: { device: 'inv-1', point: 'activePowerLimit', value: 100.5 }, reason: /100\.5 is above max 100/ },
  { what: 'bad ttlMs', doc: { device: 'inv-1', point: 'activePowerLimit', value: 50, ttlMs: -1 }, reason: /^ttlMs: must be a positive integer/ },
];

function commandArgs(site: E2eSite, extra: string[]): string[] {
  return ['command', '--zookeeper', suite.zk.connectString, '--site', site.site, '--wait-ms', '20000', ...extra];
}

describe('bad commands', () => {
  it('every kind of bad command is rejected or expired with the reason, command exits 1, no device receives a write', async () => {
    const site = await E2eSite.start({ zkConnect: suite.zk.connectString, commandTtlMs: SITE_TTL_MS });
    const op = await site.client();

    // Expired: two commands created while no agent runs, older than their TTL when one starts:
    // one through the CLI with --ttl-ms (the CLI keeps waiting for the result), one raw with the
    // site's commandTtlMs (its znode's ctime is old by ZooKeeper's clock when the agent sees it).
    const expiredCli = spawnGridkeeper(commandArgs(site, ['--device', 'inv-1', '--point', 'activePowerLimit', '--value', '20', '--ttl-ms', '1000']), {
      label: 'command (expires)',
    });
    await waitFor('the CLI to submit its command', async () => (await op.children(site.paths.commands)).length === 1, { timeoutMs: 15_000 });
    const expiredRaw = await op.submit({ device: 'inv-1', point: 'activePowerLimit', value: 30, issuedBy: 'e2e' });
    await sleep(SITE_TTL_MS + 500);

    const agent = await site.startAgent('gw-a');
    await agent.leader();
    const expiredStatus = await expiredCli.exited;
    expect(expiredStatus.code).toBe(1);
    expect(expiredCli.stdout()).toMatch(/^cmd-\d{10} expired: inv-1\.activePowerLimit = 20 by gw-a \(lock-\d{10}, token \d+\): expired: \d+ms old by ZooKeeper's clock, ttl 1000ms$/);
    const afterExpiry = await op.awaitResults([expiredRaw], 10_000);
    expect(afterExpiry.get(expiredRaw)).toMatchObject({ status: 'expired', agentId: 'gw-a', error: expect.stringMatching(/ttl 2500ms$/) });

    // The rest, all at once: the CLI cases as parallel processes, the raw ones meanwhile.
    const cliRuns: Promise<CliRun>[] = CLI_CASES.map((c) => gridkeeper(commandArgs(site, c.args)));
    const rawNames: string[] = [];
    for (const c of RAW_CASES) rawNames.push(await op.submit(c.doc));
    const cli = await Promise.all(cliRuns);

    for (const [i, c] of CLI_CASES.entries()) {
      const run = cli[i];
      expect(run?.code, `${c.what}: ${run?.stdout} ${run?.stderr}`).toBe(1);
      // `cmd-N rejected: DEVICE.POINT = VALUE by AGENT (LOCK, token T): REASON`
      expect(run?.stdout, c.what).toMatch(/^cmd-\d{10} rejected: \S+ = .+ by gw-a \(lock-\d{10}, token \d+\): /);
      expect(run?.stdout, c.what).toMatch(c.reason);
    }
    const results = await op.awaitResults(rawNames, 10_000);
    for (const [i, c] of RAW_CASES.entries()) {
      const r = results.get(rawNames[i] ?? '');
      expect(r?.status, `${c.what}: ${JSON.stringify(r)}`).toBe('rejected');
      expect(r?.error, c.what).toMatch(c.reason);
      expect(r?.agentId).toBe('gw-a');
      // The result keeps what was submitted: the parsed document, or the raw text when it was no object.
      if (typeof c.doc === 'string' && !c.doc.trim().startsWith('{')) expect(r?.command, c.what).toBe(c.doc);
    }

    // One result per command, none pending, and the devices untouched.
    const all = await op.results();
    expect(all.size).toBe(2 + CLI_CASES.length + RAW_CASES.length);
    expect(await op.children(site.paths.commands)).toEqual([]);
    expect(site.writes()).toEqual([]);

    // The same path with a good command does reach the device: exactly one write.
    const good = await gridkeeper(commandArgs(site, ['--device', 'inv-1', '--point', 'activePowerLimit', '--value', '42.5']));
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^cmd-\d{10} applied: inv-1\.activePowerLimit = 42\.5 by gw-a .*read back 42\.5$/);
    expect(site.limitWrites().map((w) => w.percent)).toEqual([42.5]);
    // The limit is held (CONTRACT.md section 7): its revert timer (60 s) was programmed just before.
    expect(site.writes().map((w) => [w.address, w.values])).toEqual([
      [108, [60]],
      [120, [425]],
    ]);
  });
});
