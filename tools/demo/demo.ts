// `npm run demo`: the whole job of gridkeeper on one machine, in under a minute. Starts a local
// ZooKeeper, simulated devices for tools/demo/demo-site.yaml (inverter and turbine with register maps
// and a SunSpec PV inverter on Modbus TCP, the BMS on Modbus RTU over a socat pseudo-terminal pair)
// and two agents; scans the TCP bus for SunSpec devices as an installer would; shows who leads and
// the live readings; curtails the SunSpec inverter and shows its output follow; stops the leader and
// shows the other take over and apply the next setpoint; then stops everything it started.
import fs from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { renderStatus } from '../../src/cli/status.js';
import { SiteClient } from '../../src/coordination/site-client.js';
import { killAllChildren, REPO_ROOT, spawnGridkeeper, type ChildHandle } from '../devtools/processes.js';
import { freePort } from '../devtools/ports.js';
import { openPtyPair, type PtyPair } from '../devtools/socat.js';
import { makeTempDir } from '../devtools/temp-dirs.js';
import { sleep, waitFor } from '../devtools/wait.js';
import { startZooKeeper, type ZkServer } from '../devtools/zookeeper.js';
import { pino } from 'pino';

const SITE = 'demo-site';
/** The curtailment the demo asks of the SunSpec inverter, % of its WMax. */
const LIMIT_PCT = 30;
/** Scan report lines longer than this are cut, so the demo reads on a terminal. */
const SCAN_LINE_CHARS = 110;
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

const t0 = performance.now();
function say(text: string): void {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(5);
  process.stdout.write(`[demo ${s}s] ${text}\n`);
}

async function main(): Promise<number> {
  if (!fs.existsSync(ZOOKEEPER_JAR)) {
    console.error('The demo needs a ZooKeeper server: install it with `sudo apt-get install -y zookeeper` (Debian / Raspberry Pi OS), then run `npm run demo` again.');
    return 1;
  }
  if (!fs.existsSync('/usr/bin/socat')) {
    console.error('The demo needs socat for its serial line: install it with `sudo apt-get install -y socat`, then run `npm run demo` again.');
    return 1;
  }
  const dir = makeTempDir('demo');
  let zk: ZkServer | null = null;
  let pty: PtyPair | null = null;
  let client: SiteClient | null = null;
  try {
    say('starting a local ZooKeeper server (from the zookeeper package) ...');
    zk = await startZooKeeper({ tickTimeMs: 200 });
    say(`ZooKeeper ready at ${zk.connectString}`);

    pty = await openPtyPair();
    say(`RS-485 line simulated by a pseudo-terminal pair: ${pty.a} <-> ${pty.b}`);

    const modbusPort = await freePort();
    const configs = {
      sim: writeConfig(dir, 'simulator', { agentId: 'simulator', zk: zk.connectString, modbusPort, tty: pty.a, httpPort: null }),
      a: writeConfig(dir, 'gw-a', { agentId: 'gw-a', zk: zk.connectString, modbusPort, tty: pty.b, httpPort: await freePort() }),
      b: writeConfig(dir, 'gw-b', { agentId: 'gw-b', zk: zk.connectString, modbusPort, tty: pty.b, httpPort: await freePort() }),
    };

    const sim = spawnGridkeeper(['simulate', '--config', configs.sim], { label: 'simulator' });
    await sim.waitForLine('ready', 15_000);
    say(`simulated devices ready on Modbus TCP 127.0.0.1:${modbusPort}: inv-1 (inverter) and wt-1 (turbine) with register maps, pv-2 (SunSpec PV inverter); bms-1 (BMS) on Modbus RTU`);
    // Runs while the agents start: it has a connection of its own to the simulator.
    const scanned = scan(modbusPort);

    const agents: Record<string, ChildHandle> = {
      'gw-a': startAgent('gw-a', configs.a),
    };
    await sleep(300); // gw-a queues for the lock first, so the demo's story is the same every time
    agents['gw-b'] = startAgent('gw-b', configs.b);
    say('two agents started for the site: gw-a and gw-b (logs: JSON lines, kept in memory by the demo)');
    await scanned;

    const site = await SiteClient.open({ connect: zk.connectString, site: SITE }, { logger: pino({ level: 'silent' }) });
    client = site;

    const leader = await waitFor(
      'a leader and readings of all four devices',
      async () => {
        const view = await site.view();
        const holder = view.lock.holder;
        return holder !== null && Object.values(view.devices).filter((d) => d.status === 'ok').length >= 4 ? holder : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    say(`${leader} holds the site lock and controls the hardware; the other agent is standby`);
    await showStatus(site);

    // The SunSpec inverter always has power to curtail (its simulated array keeps half its rating at night).
    const before = await deviceValue(site, 'pv-2', 'activePower');
    const ratedW = await deviceValue(site, 'pv-2', 'm121_WMax');
    say(`setpoint: pv-2.activePowerLimit = ${LIMIT_PCT} % on the SunSpec inverter (output now ${fmtW(before)} of ${fmtW(ratedW)})`);
    await runCommand(zk.connectString, 'pv-2', 'activePowerLimit', String(LIMIT_PCT));
    // The inverter ramps to the limit within a second; the agent publishes every 500 ms.
    const after = await waitFor(
      'the SunSpec inverter to follow its limit',
      async () => {
        const w = await deviceValue(site, 'pv-2', 'activePower');
        return w <= (ratedW * LIMIT_PCT) / 100 + 50 ? w : undefined;
      },
      { timeoutMs: 5000, intervalMs: 100 },
    );
    const [pct, enabled] = [await deviceValue(site, 'pv-2', 'm123_WMaxLimPct'), await deviceValue(site, 'pv-2', 'm123_WMaxLim_Ena')];
    say(`SunSpec inverter output follows the limit: ${fmtW(before)} -> ${fmtW(after)} (model 123 now reads WMaxLimPct = ${pct} %, WMaxLim_Ena = ${enabled})`);

    const other = leader === 'gw-a' ? 'gw-b' : 'gw-a';
    say(`stopping the leader ${leader} (SIGTERM, as systemctl stop does) ...`);
    const stoppedAt = performance.now();
    agents[leader]?.kill('SIGTERM');
    const takeover = await waitFor(
      `${other} to take the lock`,
      async () => {
        const view = await site.view();
        return view.lock.holder === other ? view.lock : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    say(`${other} took over in ${Math.round(performance.now() - stoppedAt)} ms; its fencing token ${takeover.token} is higher than any before it`);

    say(`setpoint: wt-1.curtailmentSetpoint = 800 kW, now handled by ${other}`);
    await runCommand(zk.connectString, 'wt-1', 'curtailmentSetpoint', '800');
    await waitFor(
      `${other} to poll the BMS on the leader-only RS-485 bus`,
      async () => {
        const view = await site.view();
        return view.devices['bms-1']?.status === 'ok' && view.devices['bms-1'].publishedBy === other;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    say(`${other} now also polls bms-1: the RS-485 bus is leaderOnly, so only the lock holder is master on it`);
    await showStatus(site);
    say('done: one leader at a time, commands applied exactly once, failover in well under a second on a clean stop');
    return 0;
  } finally {
    say('cleaning up: agents, simulator, serial pair, ZooKeeper ...');
    await client?.close();
    await killAllChildren();
    await pty?.close();
    await zk?.stop();
    say('all processes stopped');
  }
}

/** `gridkeeper scan` of the TCP bus, as an installer runs it, its report shown as it prints it. */
async function scan(port: number): Promise<void> {
  const args = ['scan', '--tcp', `127.0.0.1:${port}`, '--units', '1-3'];
  const child = spawnGridkeeper(args, { label: 'scan' });
  const status = await child.exited;
  say(`  $ gridkeeper ${args.join(' ')}   (exit ${status.code})`);
  const clip = (l: string): string => (l.length > SCAN_LINE_CHARS ? `${l.slice(0, SCAN_LINE_CHARS - 1)}…` : l);
  process.stdout.write('\n' + [...child.lines, ...child.stderrLines].map((l) => `    ${clip(l)}`).join('\n') + '\n\n');
  if (status.code !== 0) throw new Error(`gridkeeper scan exited ${status.code}`);
}

function startAgent(id: string, config: string): ChildHandle {
  return spawnGridkeeper(['run', '--config', config], { label: id, env: { LOG_LEVEL: 'info' } });
}

async function runCommand(connect: string, device: string, point: string, value: string): Promise<void> {
  const child = spawnGridkeeper(['command', '--zookeeper', connect, '--site', SITE, '--device', device, '--point', point, '--value', value], { label: 'command' });
  const status = await child.exited;
  for (const line of [...child.lines, ...child.stderrLines]) say(`  $ gridkeeper command ... -> ${line}`);
  if (status.code !== 0) throw new Error(`gridkeeper command exited ${status.code}`);
}

async function showStatus(site: SiteClient): Promise<void> {
  const view = await site.view();
  process.stdout.write('\n' + renderStatus(view, Date.now()).map((l) => `    ${l}`).join('\n') + '\n\n');
}

async function deviceValue(site: SiteClient, device: string, point: string): Promise<number> {
  const view = await site.view();
  const v = view.devices[device]?.values[point];
  return typeof v === 'number' ? v : NaN;
}

function fmtW(w: number): string {
  return Number.isFinite(w) ? `${(w / 1000).toFixed(2)} kW` : '?';
}

interface ConfigParams {
  agentId: string;
  zk: string;
  modbusPort: number;
  tty: string;
  httpPort: number | null;
}

/** tools/demo/demo-site.yaml with this run's ports, serial path and agent id filled in. */
function writeConfig(dir: string, name: string, p: ConfigParams): string {
  const doc = parseDocument(fs.readFileSync(path.join(REPO_ROOT, 'tools', 'demo', 'demo-site.yaml'), 'utf8'));
  doc.setIn(['agent', 'id'], p.agentId);
  doc.setIn(['zookeeper', 'connect'], p.zk);
  doc.setIn(['http', 'listen'], p.httpPort === null ? false : `127.0.0.1:${p.httpPort}`);
  doc.setIn(['buses', 0, 'port'], p.modbusPort);
  doc.setIn(['buses', 1, 'path'], p.tty);
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, doc.toString());
  return file;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    await killAllChildren();
    process.exit(1);
  },
);
