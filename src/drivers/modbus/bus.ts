// One physical bus (a TCP host:port or a serial line): one connection, one queue, one request on the
// wire at a time. Devices get a UnitHandle that passes their unit id with every request; nothing on
// the bus is shared state a device could set for another.
//
// Timing: `pauseMs` of silence is kept between the end of one exchange and the start of the next;
// each request is bounded by `timeoutMs` (on RTU plus a few ms of enforced line silence after a
// failure). Writes jump ahead of waiting reads.
//
// Connection: a connection that had carried good answers and then drops (device reboot, garbage on
// the stream) is re-opened at once; requests made while (re)connecting wait for it up to timeoutMs.
// Failing connects and connections that drop before any good answer are retried with exponential
// backoff and jitter (250 ms up to 30 s by default, reset by the first good answer), and while the
// bus waits for its next attempt every request fails at once with TransportError, so the queue
// never hangs. Each bus has its own queue and timers: a dead bus cannot delay another.
//
// Logs: the first connect at info; then a bus that cannot connect, or keeps losing its connection,
// is `bus down` once, reminded at growing intervals and `bus up again` at the first answer on a new
// connection (outage-log.ts). Each attempt and each lost connection is at debug only.
import type { Logger } from 'pino';
import type { BusConfig, Table } from '../../config/types.js';
import { Backoff } from '../../backoff.js';
import { systemClock, type Clock } from '../../clock.js';
import { OutageLog } from '../../outage-log.js';
import {
  BadResponseError,
  GateClosedError,
  ModbusExceptionError,
  TimeoutError,
  TransportError,
  type RequestContext,
} from '../errors.js';
import { encodeRequest, expectedResponseLength, parseResponse, READ_FUNCTION, type ModbusRequest } from './pdu.js';
import { RequestQueue, type Priority } from './request-queue.js';
import { RtuTransport } from './rtu-transport.js';
import { TcpTransport } from './tcp-transport.js';
import type { Transport } from './transport.js';

export type BusState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

export interface RequestOptions {
  /** 'write' goes ahead of every waiting 'read'. Default: 'write' for writes, 'read' for reads. */
  priority?: Priority;
  /**
   * Called inside the queue immediately before the request goes on the wire. false (or a throw)
   * refuses the request: it fails with GateClosedError (or what was thrown) and nothing is sent.
   */
  guard?: () => boolean;
  /** Point name, for the GateClosedError message. */
  point?: string;
  /** Writes: FC16 even for a single register (for devices that do not implement FC6). */
  multiple?: boolean;
}

/** A device's view of its bus: every request carries this unit id. */
export interface UnitHandle {
  readonly busId: string;
  readonly unitId: number;
  readonly device: string | undefined;
  /**
   * Registers (holding/input) or 0/1 per bit (coil/discrete), `count` of them from `address`.
   * Every method rejects with a typed driver error, or with RangeError at once for a request the
   * protocol cannot carry (more than 125 registers / 2000 bits, an address past 65535).
   */
  read(table: Table, address: number, count: number, opts?: RequestOptions): Promise<number[]>;
  /** FC6 for one register (unless `opts.multiple`), FC16 for more. */
  writeRegisters(address: number, values: number[], opts?: RequestOptions): Promise<void>;
  /** FC5. */
  writeCoil(address: number, value: boolean, opts?: RequestOptions): Promise<void>;
  /**
   * Connections the bus has made so far. A change tells a driver that the device may have
   * restarted since it last looked (SunSpec discovery walks again). Absent: not known.
   */
  connections?(): number;
}

export type BusErrorKind = 'timeout' | 'exception' | 'transport' | 'bad_response';

/** Counters since start, for metrics. */
export interface BusStats {
  busId: string;
  state: BusState;
  /** Requests taken from the queue (refused by the gate: not counted). */
  requests: number;
  errors: Record<BusErrorKind, number>;
  /** Successful connects (the first one included). */
  connects: number;
  queueLength: number;
}

export interface BusDeps {
  logger: Logger;
  /** The link; default: a TcpTransport or RtuTransport from the config. */
  transport?: Transport;
  /** Reconnect backoff (ms); default 250 up to 30000. */
  reconnect?: { initialMs: number; maxMs: number };
  /** Uniform in [0, 1) for jitter; default Math.random. */
  random?: () => number;
  /** Times the outage lines (`bus down`, `still down`, `up again`); default systemClock. */
  clock?: Clock;
}

interface Job {
  request: ModbusRequest;
  /** The request PDU, encoded when the request was made (a request the protocol cannot carry never queues). */
  pdu: Buffer;
  unitId: number;
  context: RequestContext;
  guard: (() => boolean) | undefined;
  point: string | undefined;
  resolve: (values: number[]) => void;
  reject: (err: Error) => void;
}

const DEFAULT_RECONNECT = { initialMs: 250, maxMs: 30_000 };

export class Bus {
  readonly id: string;
  private readonly log: Logger;
  private readonly transport: Transport;
  private readonly backoff: Backoff;
  private readonly outage: OutageLog;
  private readonly queue = new RequestQueue<Job>();
  private stateValue: BusState = 'idle';
  private readonly stateWaiters = new Set<() => void>();
  private reconnectTimer: NodeJS.Timeout | null = null;
  private nextAttemptAtMs = 0;
  /** Why the bus is down, in words (the last connect or connection error). */
  private downReason = 'not started';
  private current: Promise<void> | null = null;
  private lastExchangeEndMs = Number.NEGATIVE_INFINITY;
  /** The current connection has carried at least one good answer. */
  private connectionProven = false;
  private readonly counters: { requests: number; connects: number; errors: Record<BusErrorKind, number> } = {
    requests: 0,
    connects: 0,
    errors: { timeout: 0, exception: 0, transport: 0, bad_response: 0 },
  };

  constructor(
    private readonly cfg: BusConfig,
    deps: BusDeps,
  ) {
    this.id = cfg.id;
    this.log = deps.logger.child({ bus: cfg.id });
    this.transport = deps.transport ?? createTransport(cfg, this.log);
    const reconnect = deps.reconnect ?? DEFAULT_RECONNECT;
    this.backoff = new Backoff({ ...reconnect, random: deps.random });
    // A failure is a failed connect or a lost connection.
    this.outage = new OutageLog({ subject: 'bus', attempt: 'connection', countAs: 'failures' }, { logger: this.log, clock: deps.clock ?? systemClock });
  }

  get state(): BusState {
    return this.stateValue;
  }

  /** Opens the connection in the background; requests made meanwhile wait for it (up to timeoutMs). */
  start(): void {
    if (this.stateValue !== 'idle') return;
    this.connect();
  }

  /**
   * Refuses new requests, fails the waiting ones (TransportError PORT_NOT_OPEN), lets the request on
   * the wire finish (bounded by timeoutMs), then closes the connection.
   */
  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.setState('closed');
    this.downReason = 'bus closed';
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    for (const job of this.queue.drain()) job.reject(new TransportError('PORT_NOT_OPEN', `bus ${this.id} closed`, job.context));
    if (this.current !== null) await this.current;
    await this.transport.close();
  }

  unit(unitId: number, device?: string): UnitHandle {
    const busId = this.id;
    return {
      busId,
      unitId,
      device,
      read: (table, address, count, opts) =>
        this.enqueue(unitId, device, { fc: READ_FUNCTION[table], address, count }, table, opts?.priority ?? 'read', opts),
      writeRegisters: async (address, values, opts) => {
        const request: ModbusRequest =
          values.length === 1 && opts?.multiple !== true ? { fc: 6, address, value: values[0] ?? 0 } : { fc: 16, address, values };
        await this.enqueue(unitId, device, request, 'holding', opts?.priority ?? 'write', opts);
      },
      writeCoil: async (address, value, opts) => {
        await this.enqueue(unitId, device, { fc: 5, address, value }, 'coil', opts?.priority ?? 'write', opts);
      },
      connections: () => this.counters.connects,
    };
  }

  stats(): BusStats {
    return {
      busId: this.id,
      state: this.stateValue,
      requests: this.counters.requests,
      errors: { ...this.counters.errors },
      connects: this.counters.connects,
      queueLength: this.queue.length,
    };
  }

  // ---- queue -------------------------------------------------------------------------------------

  private enqueue(
    unitId: number,
    device: string | undefined,
    request: ModbusRequest,
    table: Table,
    priority: Priority,
    opts: RequestOptions | undefined,
  ): Promise<number[]> {
    const count = 'count' in request ? request.count : 'values' in request ? request.values.length : 1;
    const context: RequestContext = { bus: this.id, device, unit: unitId, fc: request.fc, table, address: request.address, count };
    if (this.stateValue === 'closed') {
      return Promise.reject(new TransportError('PORT_NOT_OPEN', `bus ${this.id} closed`, context));
    }
    let pdu: Buffer;
    try {
      pdu = encodeRequest(request); // RangeError: more than one request may carry, address past 65535, ...
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new RangeError(String(err)));
    }
    return new Promise<number[]>((resolve, reject) => {
      this.queue.push({ request, pdu, unitId, context, guard: opts?.guard, point: opts?.point, resolve, reject }, priority);
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.current !== null) return;
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      this.current = this.run(job);
      await this.current;
    }
    this.current = null;
  }

  /** Settles the job; never rejects. */
  private async run(job: Job): Promise<void> {
    try {
      if (this.stateValue === 'connecting') await this.waitForStateChange(this.cfg.timeoutMs);
      if (this.stateValue !== 'connected') {
        this.counters.requests += 1;
        this.counters.errors.transport += 1;
        job.reject(this.downError(job.context));
        return;
      }
      const pauseLeftMs = this.lastExchangeEndMs + this.cfg.pauseMs - performance.now();
      if (pauseLeftMs > 0) await sleep(pauseLeftMs);
      if (job.guard !== undefined && !job.guard()) {
        job.reject(new GateClosedError(job.context, job.point));
        return;
      }
      this.counters.requests += 1;
      job.resolve(await this.send(job));
    } catch (err) {
      job.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** One exchange on the wire; its failures become typed errors and are counted. */
  private async send(job: Job): Promise<number[]> {
    let pdu: Buffer;
    try {
      pdu = await this.transport.exchange({
        unitId: job.unitId,
        pdu: job.pdu,
        expectedLength: expectedResponseLength(job.request),
        timeoutMs: this.cfg.timeoutMs,
        context: job.context,
      });
    } catch (err) {
      throw this.count(err instanceof Error ? err : new TransportError('TRANSPORT_FAILED', String(err), job.context));
    } finally {
      this.lastExchangeEndMs = performance.now();
    }
    const outcome = parseResponse(job.request, pdu);
    if (outcome.kind !== 'invalid') this.outage.succeeded(); // an answer: the link works
    if (outcome.kind === 'exception') throw this.count(new ModbusExceptionError(outcome.exceptionCode, job.context));
    if (outcome.kind === 'invalid') throw this.count(new BadResponseError(outcome.detail, job.context));
    if (!this.connectionProven) {
      this.connectionProven = true;
      this.backoff.reset(); // the connection demonstrably works
    }
    return outcome.values;
  }

  private count(err: Error): Error {
    if (err instanceof TimeoutError) this.counters.errors.timeout += 1;
    else if (err instanceof ModbusExceptionError) this.counters.errors.exception += 1;
    else if (err instanceof BadResponseError) this.counters.errors.bad_response += 1;
    else this.counters.errors.transport += 1;
    if (err instanceof TimeoutError || err instanceof BadResponseError) this.log.debug({ err }, 'request failed');
    return err;
  }

  private downError(context: RequestContext): TransportError {
    const retry = this.stateValue === 'backoff' ? `; next attempt in ${Math.max(0, Math.round(this.nextAttemptAtMs - performance.now()))}ms` : '';
    return new TransportError('PORT_NOT_OPEN', `${this.transport.label} is ${this.stateValue} (${this.downReason}${retry})`, context);
  }

  // ---- connection --------------------------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = null;
    this.connectionProven = false;
    this.setState('connecting');
    const context: RequestContext = { bus: this.id, unit: 0 };
    this.transport.open(context, (err) => this.onLost(err)).then(
      () => {
        if (this.stateValue === 'closed') {
          void this.transport.close();
          return;
        }
        this.counters.connects += 1;
        // Later connects, and a first one after an outage, are told by the outage lines (`bus up
        // again` at the first answer on the new connection).
        const fields = { transport: this.transport.label, connects: this.counters.connects };
        if (this.counters.connects === 1 && !this.outage.isDown) this.log.info(fields, 'bus connected');
        else this.log.debug(fields, 'bus connected');
        this.setState('connected');
      },
      (err: unknown) => {
        if (this.stateValue === 'closed') return;
        this.downReason = describeCause(err);
        this.outage.failed(err);
        this.scheduleReconnect();
      },
    );
  }

  private onLost(err: TransportError): void {
    if (this.stateValue === 'closed') return;
    this.downReason = describeCause(err);
    this.log.debug({ err }, 'bus connection lost');
    this.outage.failed(err);
    if (this.connectionProven) this.connect();
    else this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delayMs = this.backoff.next();
    this.nextAttemptAtMs = performance.now() + delayMs;
    this.log.debug({ reason: this.downReason, delayMs: Math.round(delayMs), attempt: this.backoff.attempts }, 'bus reconnect scheduled');
    this.setState('backoff');
    this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
  }

  private setState(state: BusState): void {
    this.stateValue = state;
    const waiters = [...this.stateWaiters];
    this.stateWaiters.clear();
    for (const wake of waiters) wake();
  }

  private waitForStateChange(maxMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.stateWaiters.delete(wake);
        resolve();
      }, maxMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.stateWaiters.add(wake);
    });
  }
}

/** The transport a bus config asks for. */
export function createTransport(cfg: BusConfig, logger: Logger): Transport {
  if (cfg.type === 'tcp') return new TcpTransport({ host: cfg.host, port: cfg.port, connectTimeoutMs: cfg.timeoutMs }, { logger });
  return new RtuTransport(
    { path: cfg.path, baudRate: cfg.baudRate, parity: cfg.parity, dataBits: cfg.dataBits, stopBits: cfg.stopBits },
    { logger },
  );
}

/** The root cause of a transport failure in words (without our request context). */
function describeCause(err: unknown): string {
  if (err instanceof Error && err.cause instanceof Error) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
