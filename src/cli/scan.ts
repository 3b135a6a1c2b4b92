// `gridkeeper scan --tcp HOST[:PORT] | --rtu PATH [--baud N] [--units LIST] [--timeout-ms N] [--json]`
// (CONTRACT.md section 6): for an installer with a laptop on a bus. Asks each unit of LIST in turn
// for the SunSpec marker, walks the chains it finds and prints them with a device block ready to
// paste into a site file. Reads only. One bus, one connection, one request at a time, through the
// drivers' Bus; a silent unit costs one --timeout-ms. Exit 0 when at least one SunSpec device was
// found, 1 when none (one line on stderr), 2 on a usage error.
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { DEFAULT_PAUSE_MS } from '../config/resolve.js';
import type { BusConfig } from '../config/types.js';
import { parseHostPort } from '../config/host-port.js';
import { Bus } from '../drivers/modbus/bus.js';
import { TcpTransport } from '../drivers/modbus/tcp-transport.js';
import { TransportError } from '../drivers/errors.js';
import { EXIT, UsageError, type CliIO } from './io.js';
import { probeUnit, type UnitFinding } from './scan-probe.js';
import { noneLine, renderJson, renderText, sunspecDeviceCount, type ScanResult } from './scan-report.js';
import { DEFAULT_UNITS, parseUnitList } from './scan-units.js';

export const SCAN_USAGE = `usage: gridkeeper scan --tcp HOST[:PORT] | --rtu PATH [--baud N] [--units LIST]
                       [--timeout-ms N] [--json]

  --tcp HOST[:PORT]  a Modbus TCP device or gateway (port default 502; IPv6 as [ADDRESS]:PORT)
  --rtu PATH         a serial port, 8 data bits, no parity, 1 stop bit
  --baud N           RTU baud rate (default 9600)
  --units LIST       unit ids to ask, like 1-10,126 (default ${DEFAULT_UNITS})
  --timeout-ms N     wait per request, ms (default 300): what each silent unit costs
  --json             one JSON document instead of text

Reads only. Exit 0 when at least one SunSpec device was found, 1 when none, 2 on a usage error.`;

const DEFAULT_TIMEOUT_MS = 300;
const DEFAULT_BAUD = 9600;
const DEFAULT_TCP_PORT = 502;
/** How long a TCP connect may take: longer than one request, since a gateway across a VPN is slow to accept. */
const CONNECT_TIMEOUT_MS = 3000;
const STATE_POLL_MS = 10;

interface Args {
  bus: BusConfig;
  label: string;
  units: number[];
  json: boolean;
}

export async function scanCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv);
  if (args === 'help') {
    io.stdout(SCAN_USAGE);
    return EXIT.ok;
  }
  const logger = pino({ level: logLevel(io.env.LOG_LEVEL) }, pino.destination({ fd: 2, sync: true }));
  const cfg = args.bus;
  const transport = cfg.type === 'tcp' ? new TcpTransport({ host: cfg.host, port: cfg.port, connectTimeoutMs: CONNECT_TIMEOUT_MS }, { logger }) : undefined;
  const bus = new Bus(cfg, { logger, ...(transport === undefined ? {} : { transport }) });
  const startedMs = performance.now();
  bus.start();
  const findings: UnitFinding[] = [];
  try {
    await untilConnectDecided(bus, CONNECT_TIMEOUT_MS + cfg.timeoutMs);
    for (const unitId of args.units) findings.push(await probeUnit(bus.unit(unitId)));
  } catch (err) {
    if (!(err instanceof TransportError)) throw err;
    io.stderr(`gridkeeper scan: cannot reach ${args.label}: ${err.message}`);
    return EXIT.failure;
  } finally {
    await bus.close();
  }

  const result: ScanResult = {
    bus: args.label,
    busType: cfg.type,
    units: args.units,
    timeoutMs: cfg.timeoutMs,
    elapsedMs: performance.now() - startedMs,
    findings,
  };
  const found = sunspecDeviceCount(result) > 0;
  if (args.json) io.stdout(renderJson(result));
  else if (found) for (const line of renderText(result)) io.stdout(line);
  if (!found) io.stderr(`gridkeeper scan: ${noneLine(result)}`);
  return found ? EXIT.ok : EXIT.failure;
}

/** Waits until the bus has connected or given up its first attempt (then the first request fails with the reason). */
async function untilConnectDecided(bus: Bus, maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  while ((bus.state === 'idle' || bus.state === 'connecting') && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, STATE_POLL_MS));
  }
}

function parse(argv: string[]): Args | 'help' {
  let values: { tcp?: string; rtu?: string; baud?: string; units?: string; 'timeout-ms'?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tcp: { type: 'string' },
        rtu: { type: 'string' },
        baud: { type: 'string' },
        units: { type: 'string' },
        'timeout-ms': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) return 'help';
  if ((values.tcp === undefined) === (values.rtu === undefined)) throw usage('give one of --tcp HOST[:PORT] and --rtu PATH');
  const timeoutMs = integer('--timeout-ms', values['timeout-ms'], DEFAULT_TIMEOUT_MS, 1, 600_000);
  const units = parseUnitList(values.units ?? DEFAULT_UNITS);
  const common = { id: 'scan', timeoutMs, leaderOnly: false };
  if (values.tcp !== undefined) {
    if (values.baud !== undefined) throw usage('--baud goes with --rtu');
    const target = hostPort(values.tcp);
    const bus: BusConfig = { ...common, type: 'tcp', host: target.host, port: target.port, pauseMs: DEFAULT_PAUSE_MS.tcp };
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    return { bus, label: `tcp ${host}:${target.port}`, units, json: values.json === true };
  }
  const path = values.rtu ?? '';
  if (path === '') throw usage('--rtu needs the path of a serial port');
  const baudRate = integer('--baud', values.baud, DEFAULT_BAUD, 1, 10_000_000);
  const bus: BusConfig = { ...common, type: 'rtu', path, baudRate, parity: 'none', dataBits: 8, stopBits: 1, pauseMs: DEFAULT_PAUSE_MS.rtu };
  return { bus, label: `rtu ${path}`, units, json: values.json === true };
}

/** `HOST`, `HOST:PORT`, `[IPV6]:PORT`, `[IPV6]` or a bare IPv6 address. */
function hostPort(text: string): { host: string; port: number } {
  const withPort = parseHostPort(text);
  if (withPort !== null && withPort.port >= 1) return withPort;
  const bracketed = /^\[([0-9A-Fa-f:.]+)\]$/.exec(text);
  if (bracketed?.[1] !== undefined) return { host: bracketed[1], port: DEFAULT_TCP_PORT };
  if (/^[A-Za-z0-9_.-]+$/.test(text) || /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/.test(text)) return { host: text, port: DEFAULT_TCP_PORT };
  throw usage(`--tcp: '${text}' is not HOST[:PORT] (port 1..65535; IPv6 as [ADDRESS]:PORT)`);
}

function integer(option: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) throw usage(`${option} must be an integer from ${min} to ${max}, got '${text}'`);
  return n;
}

/** Driver logs on stderr only when LOG_LEVEL asks for them: stdout is the report. */
function logLevel(fromEnv: string | undefined): string {
  const level = fromEnv?.toLowerCase();
  return level !== undefined && ['fatal', 'error', 'warn', 'info', 'debug', 'trace'].includes(level) ? level : 'silent';
}

function usage(message: string): UsageError {
  return new UsageError(`${message}\n${SCAN_USAGE}`);
}
