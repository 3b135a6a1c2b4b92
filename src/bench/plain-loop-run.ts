// Runs the plain modbus-serial loop (plain-loop.ts) as a child process over the devices of a site
// and measures it over a window: polls on time, device read latency, CPU and RSS.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PointConfig, SiteConfig } from '../config/types.js';
import { spawnChild } from '../devtools/processes.js';
import { sleep } from '../devtools/wait.js';
import { planReads } from '../drivers/planner.js';
import type { LoopPlan } from './plain-loop.js';
import { CpuWindow, memory, MB } from './proc.js';
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
  rssMB: number;
  peakRssMB: number;
  /** CPU (share of one core) of the other processes watched during the window, by label. */
  others: Record<string, number>;
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

/**
 * Starts the loop over `plan` (written into `dir`), waits `warmUpMs`, measures for `windowMs`
 * (and the CPU of `others` over the same window), stops it.
 */
export async function measurePlainLoop(
  dir: string,
  name: string,
  plan: LoopPlan,
  opts: { warmUpMs: number; windowMs: number; others?: { label: string; pid: number }[] },
): Promise<LoopResult> {
  const planFile = path.join(dir, `${name}.plan.json`);
  fs.writeFileSync(planFile, JSON.stringify(plan));
  const child = spawnChild(process.execPath, [LOOP_SCRIPT, planFile], { label: `plain modbus-serial loop (${name})` });
  try {
    await child.waitForLine('ready', 20_000);
    await sleep(opts.warmUpMs);
    const pid = child.pid;
    if (pid === undefined || !child.isRunning()) throw new Error(`${child.label} is not running\n${child.tail()}`);
    const from = child.lines.length;
    const cpu = new CpuWindow(pid);
    const otherCpu = (opts.others ?? []).map((o) => ({ label: o.label, cpu: new CpuWindow(o.pid) }));
    await sleep(opts.windowMs);
    const used = cpu.stop();
    const others = Object.fromEntries(otherCpu.map((o) => [o.label, o.cpu.stop().coreShare]));
    const mem = memory(pid);
    await sleep(1100); // one more stats line, covering the end of the window
    const lines = child.lines.slice(from > 0 ? from - 1 : 0).map(parseLine).filter((l): l is LoopLine => l !== null);
    const first = lines[0];
    const last = lines[lines.length - 1];
    if (first === undefined || last === undefined || lines.length < 2) throw new Error(`${child.label} printed no counters\n${child.tail()}`);
    const polls = last.polls - first.polls;
    const skipped = last.skipped - first.skipped;
    const reads = summarize(lines.slice(1).flatMap((l) => l.readMs));
    const seconds = (last.atMs - first.atMs) / 1000;
    return {
      devices: plan.buses.reduce((n, b) => n + b.devices.length, 0),
      polls,
      onTimeShare: (last.onTime - first.onTime) / (polls + skipped),
      errors: last.errors - first.errors,
      requestsPerSecond: (last.requests - first.requests) / seconds,
      readP50Ms: reads.p50,
      readP99Ms: reads.p99,
      coreShare: used.coreShare,
      rssMB: mem.rssBytes / MB,
      peakRssMB: mem.peakRssBytes / MB,
      others,
    };
  } finally {
    await child.stop(3000);
  }
}
