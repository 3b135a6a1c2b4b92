// `npm run bench:fleet`: many sites on one ZooKeeper ensemble (issue 13). Starts a three-server
// ensemble on this machine, grows a fleet of sites (two `gridkeeper run` agents each, simulated
// devices in one child process), measures what each site costs the ensemble from the servers' own
// records (transaction log, mntr, heap, /proc), then what the ensemble takes at most, and writes
// tools/bench/FLEET.md and fleet.json. About 6 minutes.
//   node dist-tools/tools/bench/fleet.js [--quick]   --quick: small and short, written to a temp dir
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { connectSession, digestAclId, type ZkSession } from '../../src/coordination/index.js';
import { freePorts, killAllChildren, REPO_ROOT, spawnChild, type ChildHandle } from '../devtools/processes.js';
import { makeTempDir } from '../devtools/temp-dirs.js';
import { sleep } from '../devtools/wait.js';
import { startEnsemble, type ZkEnsemble } from '../devtools/zookeeper.js';
import { heapPerSession, heapPerZnode, writeCapacity } from './fleet-capacity.js';
import { fleetFigures, renderFleet, type FleetReport } from './fleet-report.js';
import { runFleet, type FleetPlan } from './fleet-run.js';
import { fleetSite, type FleetSite } from './fleet-sites.js';
import { profileTriggers } from './fleet-triggers.js';
import { describeMachine, renderTable } from './report.js';
import { quantile } from './stats.js';

const FULL: FleetPlan = { pairsPerStep: [1, 3, 5], windowS: [20, 25, 60], commandsPerSite: 15, burstSize: 200, watcherChanges: 10 };
const QUICK: FleetPlan = { pairsPerStep: [2], windowS: [15], commandsPerSite: 5, burstSize: 40, watcherChanges: 2 };
/** The simulated devices' time of day at the start: a clear morning, the sun two thirds up. */
const START_HOUR = 10;
const TRIGGER_POLLS = 1800;
const CAPACITY_S = 12;

function log(text: string): void {
  process.stderr.write(`[fleet ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

async function main(): Promise<number> {
  if (!fs.existsSync('/usr/share/java/zookeeper.jar')) {
    console.error('The fleet bench needs ZooKeeper: `sudo apt-get install -y zookeeper` (Debian / Raspberry Pi OS), then run it again.');
    return 1;
  }
  const quick = process.argv.includes('--quick');
  const plan = quick ? QUICK : FULL;
  const machine = describeMachine();
  const t0 = performance.now();
  const dir = makeTempDir('fleet');
  const logger = pino({ level: 'silent' });
  let ensemble: ZkEnsemble | null = null;
  let simulator: ChildHandle | null = null;
  const sessions: ZkSession[] = [];
  const sites: FleetSite[] = [];
  try {
    log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; which points publish (in-process simulation)`);
    const triggers = profileTriggers({ startHour: START_HOUR, polls: TRIGGER_POLLS, pollIntervalMs: 1000, maxIntervalMs: 60_000 });
    log('starting a three-server ensemble (tickTime 200 ms)');
    ensemble = await startEnsemble(3, { tickTimeMs: 200 });
    const admin = await connectSession({ connect: ensemble.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 30_000 }, { logger });
    sessions.push(admin);
    const emsFile = path.join(dir, 'ems.credentials');
    fs.writeFileSync(emsFile, 'ems:ems-secret\n', { mode: 0o600 });
    const ems = await connectSession({ connect: ensemble.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 30_000, credentialsFile: emsFile }, { logger });
    sessions.push(ems);
    const emsAclId = `digest:${digestAclId({ user: 'ems', password: 'ems-secret' })}`;

    const pairs = Math.max(...plan.pairsPerStep);
    const ports = await freePorts(2 * pairs);
    for (let i = 0; i < pairs; i++) {
      for (const [k, variant] of (['deadband', 'baseline'] as const).entries()) {
        sites.push(fleetSite({ dir, index: 2 * i + k + 1, variant, port: ports[2 * i + k] ?? 0, zookeeper: ensemble.connectString, emsAclId, emsSession: ems }));
      }
    }
    const script = path.join(REPO_ROOT, 'dist-tools', 'tools', 'bench', 'fleet-simulator.js');
    simulator = spawnChild(process.execPath, [script, '--hour', String(START_HOUR), ...sites.flatMap((s) => ['--config', s.simulatorConfig])], { label: 'fleet simulator' });
    await simulator.waitForLine('ready', 60_000);

    const fleet = await runFleet(plan, sites, ensemble, admin, log);
    log('stopping the fleet');
    await Promise.all(sites.flatMap((s) => [...s.agents.values()].map((a) => a.stop(6000))));
    await simulator.stop(5000);
    simulator = null;

    await sleep(2000); // the agents' sessions closed: let the servers finish with them
    log('heap per znode (result-shaped)');
    const heap = await heapPerZnode(ensemble, admin, fleet.result.data, fleet.result.path, quick ? 2000 : 10_000);
    log('heap per session');
    const session = await heapPerSession(ensemble, admin, quick ? 100 : 400);
    const snapshotBytes = Math.round(quantile(fleet.idleTrees.deadband.snapshotBytes, 0.5));
    log(`plain write load: ${CAPACITY_S} s of ${snapshotBytes}-byte sets`);
    const capacity = await writeCapacity(ensemble, snapshotBytes, { sessions: 4, lanesPerSession: 16, durationMs: CAPACITY_S * 1000 });

    machine.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
    const report: FleetReport = {
      machine,
      durationSeconds: (performance.now() - t0) / 1000,
      plan,
      startHour: START_HOUR,
      fleet,
      capacity,
      heap,
      session,
      triggers,
      triggerSeconds: TRIGGER_POLLS,
      capacitySeconds: CAPACITY_S,
    };
    const outDir = quick ? fs.mkdtempSync(path.join(os.tmpdir(), 'gridkeeper-fleet-quick-')) : path.join(REPO_ROOT, 'tools', 'bench');
    fs.writeFileSync(path.join(outDir, 'FLEET.md'), renderFleet(report));
    fs.writeFileSync(path.join(outDir, 'fleet.json'), `${JSON.stringify(report, jsonReplacer, 2)}\n`);
    process.stdout.write(`\n${renderTable([{ id: 'F', title: 'Fleet', figures: fleetFigures(report), method: [], details: {}, analysis: [], error: null }])}\n\n`);
    log(`wrote ${path.join(outDir, 'FLEET.md')} and fleet.json`);
    return 0;
  } finally {
    await simulator?.stop(5000);
    await killAllChildren();
    await Promise.all(sessions.map((s) => s.close()));
    await ensemble?.close();
  }
}

/** Buffers as their length, bigint and non-finite numbers as JSON can hold them. */
function jsonReplacer(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object' && value !== null && 'type' in value && value.type === 'Buffer' && 'data' in value && Array.isArray(value.data)) {
    return `(${value.data.length} bytes)`;
  }
  return key === 'client' ? undefined : value;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(`fleet bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await killAllChildren();
    process.exit(1);
  },
);
