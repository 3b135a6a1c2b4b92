// The plain modbus-serial loop (plain-loop.ts) as a child process of the bench: its plan (the same
// reads the agent's planner makes), starting it, and its figures over a window from the counter
// lines it prints every second.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PointConfig, SiteConfig } from '../../src/config/types.js';
import { spawnChild, type ChildHandle } from '../devtools/processes.js';
import { sleep } from '../devtools/wait.js';
import { planReads } from '../../src/drivers/device/planner.js';
import type { LoopPlan } from './plain-loop.js';
import { memory, MB, type CpuUse } from './proc.js';
import { summarize } from './stats.js';

const LOOP_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'plain-loop.js');

export interface LoopResult {
  devices: number;
  polls: number;
  onTimeShare: number;
  errors: number;
  requestsPerSecond: number;
  readP50Ms: number;
  readP99Ms: number;
  coreShare: number;
  systemShare: number;
  rssMB: number;
  peakRssMB: number;
}

/** The same reads the agent's planner makes for every device of `config` (TCP buses only). */
export function loopPlanOf(config: SiteConfig): LoopPlan {
  const buses: LoopPlan['buses'] = [];
  for (const bus of config.buses) {
    if (bus.type !== 'tcp') continue;
    const devices = config.devices.filter((d) => d.bus === bus.id);
    if (devices.length === 0) continue;
    buses.push({
      host: bus.host,
      port: bus.port,
      intervalMs: Math.min(...devices.map((d) => d.pollIntervalMs)),
      devices: devices.map((d) => ({ unitId: d.unitId, blocks: planReads(pointsToRead(d.points)) })),
    });
  }
  return { buses };
}

function pointsToRead(points: readonly PointConfig[]): PointConfig[] {
  const sfNames = new Set(points.flatMap((p) => (p.scaleFactor === undefined ? [] : [p.scaleFactor])));
  return points.filter((p) => p.access !== 'write' || sfNames.has(p.name));
}

/** A running plain loop. `mark()` before a window, `result(mark, cpu)` after it. */
export class PlainLoop {
  private constructor(
    readonly child: ChildHandle,
    readonly devices: number,
  ) {}

  /** Writes the plan into `dir`, starts the loop and waits until every bus is connected. */
  static async start(dir: string, name: string, plan: LoopPlan): Promise<PlainLoop> {
    const planFile = path.join(dir, `${name}.plan.json`);
    fs.writeFileSync(planFile, JSON.stringify(plan));
    const child = spawnChild(process.execPath, [LOOP_SCRIPT, planFile], { label: `plain modbus-serial loop (${name})` });
    try {
      await child.waitForLine('ready', 20_000);
    } catch (err) {
      await child.stop(2000);
      throw err;
    }
    return new PlainLoop(child, plan.buses.reduce((n, b) => n + b.devices.length, 0));
  }

  get pid(): number {
    if (this.child.pid === undefined || !this.child.isRunning()) throw new Error(`${this.child.label} is not running\n${this.child.tail()}`);
    return this.child.pid;
  }

  /** Where a window starts in the loop's output. */
  mark(): number {
    return this.child.lines.length;
  }

  /** The loop's figures from `mark` on, with its CPU over the same window (measured by the caller). */
  async result(mark: number, cpu: CpuUse): Promise<LoopResult> {
    const mem = memory(this.pid);
    await sleep(1100); // one more counter line, covering the end of the window
    const lines = this.child.lines.slice(Math.max(0, mark - 1)).map(parseLine).filter((l): l is LoopLine => l !== null);
    const first = lines[0];
    const last = lines[lines.length - 1];
    if (first === undefined || last === undefined || lines.length < 2) throw new Error(`${this.child.label} printed no counters\n${this.child.tail()}`);
    const polls = last.polls - first.polls;
    const reads = summarize(lines.slice(1).flatMap((l) => l.readMs));
    return {
      devices: this.devices,
      polls,
      onTimeShare: (last.onTime - first.onTime) / (polls + last.skipped - first.skipped),
      errors: last.errors - first.errors,
      requestsPerSecond: (last.requests - first.requests) / ((last.atMs - first.atMs) / 1000),
      readP50Ms: reads.p50,
      readP99Ms: reads.p99,
      coreShare: cpu.coreShare,
      systemShare: cpu.systemShare,
      rssMB: mem.rssBytes / MB,
      peakRssMB: mem.peakRssBytes / MB,
    };
  }

  async stop(): Promise<void> {
    await this.child.stop(3000);
  }
}

interface LoopLine {
  atMs: number;
  polls: number;
  onTime: number;
  skipped: number;
  requests: number;
  errors: number;
  readMs: number[];
}

function parseLine(line: string): LoopLine | null {
  if (!line.startsWith('{')) return null;
  const v: unknown = JSON.parse(line);
  if (typeof v !== 'object' || v === null) return null;
  const o = Object.fromEntries(Object.entries(v));
  const num = (k: string): number => (typeof o[k] === 'number' ? o[k] : NaN);
  const readMs = Array.isArray(o.readMs) ? o.readMs.filter((x): x is number => typeof x === 'number') : [];
  return { atMs: num('atMs'), polls: num('polls'), onTime: num('onTime'), skipped: num('skipped'), requests: num('requests'), errors: num('errors'), readMs };
}
