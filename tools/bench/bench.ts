// `npm run bench`: measures gridkeeper on this machine and writes tools/bench/results.json and
// tools/bench/RESULTS.md (see report.ts). Sections run one after the other; one that fails is reported as
// failed and the others still run. Every process started (ZooKeeper, simulators, agents, the plain
// loop) is stopped at the end of its section, and killed on any exit (devtools' child registry).
//   node dist-tools/tools/bench/bench.js [SECTION_ID ...]   e.g. `2 5`: only scale and failover, written to a temp dir
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { connectSession, type ZkSession } from '../../src/coordination/index.js';
import { killAllChildren, REPO_ROOT } from '../devtools/processes.js';
import { makeTempDir } from '../devtools/temp-dirs.js';
import { startZooKeeper, type ZkServer } from '../devtools/zookeeper.js';
import { describeMachine, errorSection, renderTable, writeResults, type Section } from './report.js';
import { commandLatency } from './command-latency.js';
import { failover } from './failover.js';
import { footprint } from './footprint.js';
import { heldSetpoints } from './held-setpoints.js';
import { publishLatency } from './publish-latency.js';
import { requestsPerPoll } from './requests-per-poll.js';
import { scale } from './scale.js';

interface Context {
  dir: string;
  zk: ZkServer;
  session: ZkSession;
}

interface Measurement {
  id: string;
  title: string;
  run: (ctx: Context) => Promise<Section>;
}

const MEASUREMENTS: Measurement[] = [
  { id: '1', title: '1. Requests per poll', run: () => requestsPerPoll() },
  { id: '2', title: '2. Scale', run: (c) => scale(c.dir, c.zk.connectString, c.session) },
  { id: '3', title: '3. Command latency', run: (c) => commandLatency(c.dir, c.zk.connectString, c.session) },
  { id: '4', title: '4. Publish latency', run: (c) => publishLatency(c.dir, c.zk.connectString, c.session) },
  { id: '5', title: '5. Failover', run: (c) => failover(c.dir, c.zk.connectString, c.session) },
  { id: '6', title: '6. Footprint', run: (c) => footprint(c.dir, c.zk.connectString) },
  { id: '7', title: '7. Held setpoints', run: (c) => heldSetpoints(c.dir, c.zk.connectString, c.session) },
];

function log(text: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
}

const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';

async function main(): Promise<number> {
  if (!fs.existsSync(ZOOKEEPER_JAR) && process.env.ZOOKEEPER_CONNECT === undefined) {
    console.error('The bench needs a ZooKeeper server: install it with `sudo apt-get install -y zookeeper` (Debian / Raspberry Pi OS), then run `npm run bench` again.');
    return 1;
  }
  const only = process.argv.slice(2);
  const selected = only.length === 0 ? MEASUREMENTS : MEASUREMENTS.filter((m) => only.includes(m.id));
  const machine = describeMachine();
  const t0 = performance.now();
  const sections: Section[] = [];
  const dir = makeTempDir('bench');
  let zk: ZkServer | null = null;
  let session: ZkSession | null = null;
  try {
    log('starting ZooKeeper (tickTime 200 ms)');
    zk = await startZooKeeper({ tickTimeMs: 200 });
    // One session for every section: each reads its site through a SiteClient on it, and times
    // bare ZooKeeper round trips on it as the baselines.
    session = await connectSession({ connect: zk.connectString, sessionTimeoutMs: 10_000, connectTimeoutMs: 30_000 }, { logger: pino({ level: 'silent' }) });
    for (const m of selected) {
      log(`${m.title} ...`);
      const started = performance.now();
      try {
        sections.push(await m.run({ dir, zk, session }));
      } catch (err) {
        sections.push(errorSection(m.id, m.title, err));
        log(`${m.title} failed: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        await killAllChildren(); // whatever a failed section left running
      }
      log(`${m.title} done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    }
  } finally {
    await session?.close();
    await killAllChildren();
    await zk?.stop();
  }
  machine.loadAverageAtEnd = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const run = { machine, durationSeconds: (performance.now() - t0) / 1000, sections };
  process.stdout.write(`\n${renderTable(sections)}\n\n`);
  // A subset run (development) writes beside the temp files instead of over the committed results.
  const outDir = only.length === 0 ? path.join(REPO_ROOT, 'tools', 'bench') : fs.mkdtempSync(path.join(os.tmpdir(), 'gridkeeper-bench-subset-'));
  const files = writeResults(outDir, run);
  log(`wrote ${files.json} and ${files.markdown}`);
  const failed = sections.filter((s) => s.error !== null).length;
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await killAllChildren();
    process.exit(1);
  },
);
