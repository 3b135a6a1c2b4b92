// The baseline of the scale and footprint measurements, run as its own process:
//   node dist-tools/tools/bench/plain-loop.js PLAN.json
// A plain modbus-serial loop, no agent around it: one connection per bus, and every intervalMs it
// reads each device of the bus, the same requests the agent's planner makes, one after the other.
// Prints `ready` once every bus is connected, then every second one JSON line of counters so far:
// {"atMs","polls","onTime","skipped","requests","errors","readMs":[durations of device reads since the last line]}.
// No decoding, no publishing, no metrics: what reading the registers costs by itself.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import type { ModbusRTU as ModbusRTUClass } from 'modbus-serial/ModbusRTU.js';

/** modbus-serial is CommonJS typed as `export default`, which NodeNext mistypes: load it with require. */
const ModbusRTU: typeof ModbusRTUClass = createRequire(import.meta.url)('modbus-serial');

export type PlanTable = 'holding' | 'input' | 'coil' | 'discrete';

export interface LoopPlan {
  buses: {
    host: string;
    port: number;
    intervalMs: number;
    devices: { unitId: number; blocks: { table: PlanTable; address: number; count: number }[] }[];
  }[];
}

const counters = { polls: 0, onTime: 0, skipped: 0, requests: 0, errors: 0 };
let readMs: number[] = [];

/** The fields of a JSON object ({} for anything else). */
function fields(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
}

const TABLES: readonly string[] = ['holding', 'input', 'coil', 'discrete'];
const isTable = (v: unknown): v is PlanTable => typeof v === 'string' && TABLES.includes(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function parsePlan(text: string): LoopPlan {
  const fail = (what: string): never => {
    throw new Error(`plain-loop: bad plan file: ${what}`);
  };
  const buses = fields(JSON.parse(text)).buses;
  if (!Array.isArray(buses)) return fail('no buses');
  return {
    buses: buses.map((b: unknown) => {
      const { host, port, intervalMs, devices } = fields(b);
      if (typeof host !== 'string' || !isCount(port) || !isCount(intervalMs) || !Array.isArray(devices)) return fail('bus fields');
      return {
        host,
        port,
        intervalMs,
        devices: devices.map((d: unknown) => {
          const { unitId, blocks } = fields(d);
          if (!isCount(unitId) || !Array.isArray(blocks)) return fail('device fields');
          return {
            unitId,
            blocks: blocks.map((k: unknown) => {
              const { table, address, count } = fields(k);
              if (!isTable(table) || !isCount(address) || !isCount(count)) return fail('block fields');
              return { table, address, count };
            }),
          };
        }),
      };
    }),
  };
}

async function read(client: ModbusRTUClass, table: PlanTable, address: number, count: number): Promise<void> {
  switch (table) {
    case 'holding':
      await client.readHoldingRegisters(address, count);
      return;
    case 'input':
      await client.readInputRegisters(address, count);
      return;
    case 'coil':
      await client.readCoils(address, count);
      return;
    case 'discrete':
      await client.readDiscreteInputs(address, count);
      return;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function runBus(client: ModbusRTUClass, bus: LoopPlan['buses'][number], stopped: () => boolean): Promise<void> {
  const startMs = performance.now() + Math.random() * bus.intervalMs * 0.2;
  for (let k = 0; !stopped(); k++) {
    const dueMs = startMs + k * bus.intervalMs;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await sleep(waitMs);
    for (const device of bus.devices) {
      const t0 = performance.now();
      counters.polls += 1;
      if (t0 - dueMs <= bus.intervalMs / 2) counters.onTime += 1;
      client.setID(device.unitId);
      try {
        for (const b of device.blocks) {
          counters.requests += 1;
          await read(client, b.table, b.address, b.count);
        }
      } catch {
        counters.errors += 1;
      }
      readMs.push(performance.now() - t0);
    }
    // Cycles whose time passed while this one ran are skipped, as the agent's scheduler does.
    const behind = Math.floor((performance.now() - (startMs + (k + 1) * bus.intervalMs)) / bus.intervalMs);
    if (behind > 0) {
      counters.skipped += behind * bus.devices.length;
      k += behind;
    }
  }
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: plain-loop.js PLAN.json');
  const plan = parsePlan(fs.readFileSync(file, 'utf8'));
  const clients: ModbusRTUClass[] = [];
  for (const bus of plan.buses) {
    const client = new ModbusRTU();
    await client.connectTCP(bus.host, { port: bus.port });
    client.setTimeout(1000);
    clients.push(client);
  }
  let stop = false;
  process.once('SIGTERM', () => {
    stop = true;
    for (const c of clients) c.close(() => undefined);
    setTimeout(() => process.exit(0), 200).unref();
  });
  process.stdout.write('ready\n');
  setInterval(() => {
    process.stdout.write(JSON.stringify({ atMs: Date.now(), ...counters, readMs }) + '\n');
    readMs = [];
  }, 1000);
  await Promise.all(plan.buses.map((bus, i) => {
    const client = clients[i];
    return client === undefined ? Promise.resolve() : runBus(client, bus, () => stop);
  }));
}

main().catch((err: unknown) => {
  process.stderr.write(`plain-loop: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
