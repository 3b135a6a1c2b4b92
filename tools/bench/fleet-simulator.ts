// The simulated devices of every site of the fleet bench, in one child process (a `gridkeeper
// simulate` that takes several site files): one Modbus TCP server per site. Unlike `simulate`, whose
// day lasts 10 minutes so that a demo shows the sun move, the day here has its real length and starts
// at a chosen hour: deadbands are sized for real devices, whose power moves with the sun over hours,
// and a compressed day would move it 144 times faster. Each site gets its own noise seed. The physics
// first run the 10 minutes before that hour (stepped here, 200 ms at a time), so that the devices are
// warm when the agents come: a model starts cold (heat sinks at ambient), a real site at 10:00 is not.
//   node fleet-simulator.js --hour 10 --config site-1.yaml --config site-2.yaml ...   prints `ready`
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { SimulatedSite } from '../../src/simulator/index.js';

const DAY_MS = 86_400_000;
const WARM_UP_MS = 10 * 60_000;
const TICK_MS = 200;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { hour: { type: 'string' }, config: { type: 'string', multiple: true } }, strict: true });
  const hour = Number(values.hour ?? '10');
  const files = values.config ?? [];
  // Simulated time (UTC, as the models read it): stepped through the warm-up, then wall time shifted
  // so that it goes on from `hour` without a jump.
  const startMs = Math.floor(Date.now() / DAY_MS) * DAY_MS + hour * 3_600_000;
  let warmNowMs: number | null = startMs - WARM_UP_MS;
  let offsetMs = 0;
  const clock = (): number => warmNowMs ?? Date.now() + offsetMs;
  const logger = pino({ level: 'warn' }, pino.destination({ fd: 2, sync: true }));
  const sites = files.map((file, i) => new SimulatedSite(loadConfig(file), { clock, dayLengthMs: DAY_MS, seed: i + 1, logger }));
  for (; warmNowMs < startMs; warmNowMs += TICK_MS) for (const site of sites) for (const d of site.allDevices()) d.tick();
  offsetMs = startMs - Date.now();
  warmNowMs = null;
  for (const site of sites) await site.start();
  process.stdout.write('ready\n');
  const stop = (): void => {
    void Promise.all(sites.map((s) => s.close())).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`fleet simulator failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
