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

/** User and system CPU seconds the process has used so far. */
export function cpuTimes(pid: number): { user: number; system: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 (utime) and 15 (stime) overall = indices 11 and 12 after "pid (comm)".
  return { user: Number(fields[11]) / ticksPerSecond(), system: Number(fields[12]) / ticksPerSecond() };
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

export interface CpuUse {
  /** CPU seconds per wall second (1.0 = one core busy). */
  coreShare: number;
  /** The part of coreShare spent in the kernel (system calls: for these processes mostly socket I/O). */
  systemShare: number;
  cpuSeconds: number;
  wallSeconds: number;
}

/** CPU of one process from construction to stop(). */
export class CpuWindow {
  private readonly start: { user: number; system: number };
  private readonly wallStartMs: number;

  constructor(readonly pid: number) {
    this.start = cpuTimes(pid);
    this.wallStartMs = performance.now();
  }

  stop(): CpuUse {
    const end = cpuTimes(this.pid);
    const user = end.user - this.start.user;
    const system = end.system - this.start.system;
    const wall = (performance.now() - this.wallStartMs) / 1000;
    return { coreShare: (user + system) / wall, systemShare: system / wall, cpuSeconds: user + system, wallSeconds: wall };
  }
}

export const MB = 1024 * 1024;
