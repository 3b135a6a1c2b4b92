// CPU time and memory of a process from /proc (Linux): utime+stime of /proc/PID/stat, VmRSS and
// VmHWM (peak resident set) of /proc/PID/status.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let clockTicks: number | null = null;

/** Clock ticks per second of /proc/PID/stat times (`getconf CLK_TCK`, 100 on Linux). */
function ticksPerSecond(): number {
  if (clockTicks === null) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime) overall = indices 11 and 12 after "pid (comm)".
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

export interface Memory {
  rssBytes: number;
  /** Peak resident set since the process started. */
  peakRssBytes: number;
}

export function memory(pid: number): Memory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (m === null) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM') };
}

/** CPU of one process between start() and stop(), as a fraction of one core. */
export class CpuWindow {
  private readonly cpuStart: number;
  private readonly wallStartMs: number;

  constructor(readonly pid: number) {
    this.cpuStart = cpuSeconds(pid);
    this.wallStartMs = performance.now();
  }

  /** CPU seconds per wall second since construction (1.0 = one core busy). */
  stop(): { coreShare: number; cpuSeconds: number; wallSeconds: number } {
    const cpu = cpuSeconds(this.pid) - this.cpuStart;
    const wall = (performance.now() - this.wallStartMs) / 1000;
    return { coreShare: cpu / wall, cpuSeconds: cpu, wallSeconds: wall };
  }
}

export const MB = 1024 * 1024;
