// One simulated Modbus device (a unit on a bus): register bank, point values, physics model, the
// requests it serves, the writes it received and the faults it is told to show. Transport-free: the
// TCP and RTU servers hand it request PDUs and send back what it answers.
import type { Logger } from 'pino';
import type { DeviceConfig, PointConfig, PointValue, Table } from '../config/types.js';
import { decodePoint } from '../drivers/device/codec.js';
import { AddressMap } from './address-map.js';
import { deviceImage } from './device-image.js';
import { exceptionApplies, noFaults, type Faults } from './faults.js';
import type { DeviceModel, StepTime } from './models/model.js';
import { EXCEPTION, exceptionPdu, parseRequest, readResponsePdu, writeResponsePdu, type WriteRequest } from './pdu.js';
import { PointValues } from './point-values.js';
import { createRandom, hashSeed } from './random.js';
import { RegisterBank } from './register-bank.js';
import type { TimerClock } from './revert-timer.js';
import type { WriteRecord } from './write-record.js';

export interface DeviceClock {
  /** Wall clock, ms since the epoch. */
  now(): number;
  /** Length of one simulated day in wall ms (the day is compressed so the sun visibly moves). */
  dayLengthMs: number;
}

export interface SimulatedDeviceDeps {
  logger: Logger;
  clock: DeviceClock;
  /** Mixed with the device id into the seed of its noise; same seed + same clock = same values. */
  seed: number;
  /** Clock of the device's own timers (SunSpec revert timers): real time, not the simulated day. */
  timers: TimerClock;
  /** How fast outputs with a ramp follow a setpoint, % of the rating per second; 0 = at once (no ticks to ramp on). */
  rampPctPerS: number;
  /** Called for every write received, after it is recorded. */
  onWrite?: (record: WriteRecord) => void;
}

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;
/** Tolerance when checking a written value against min/max (decoded values are exact decimals). */
const RANGE_EPSILON = 1e-9;

export class SimulatedDevice {
  readonly id: string;
  readonly unitId: number;
  readonly config: DeviceConfig;
  /** Every write request received, oldest first. Tests may clear it (`writes.length = 0`). */
  readonly writes: WriteRecord[] = [];
  /** Misbehaviour to show; change the fields at any time. */
  readonly faults: Faults = noFaults();

  private readonly bank = new RegisterBank();
  private readonly map: AddressMap;
  private readonly values: PointValues;
  private readonly model: DeviceModel;
  private readonly log: Logger;
  private lastStepMs: number;

  constructor(
    config: DeviceConfig,
    private readonly deps: SimulatedDeviceDeps,
  ) {
    this.id = config.id;
    this.unitId = config.unitId;
    this.config = config;
    this.log = deps.logger.child({ device: config.id, unit: config.unitId });
    const image = deviceImage(config, {
      random: createRandom(hashSeed(config.id) ^ deps.seed),
      timers: deps.timers,
      wake: () => this.wake(),
      rampPctPerS: deps.rampPctPerS,
      logger: this.log,
    });
    this.map = new AddressMap(image.points);
    this.values = new PointValues(image.points, this.bank, (p, err) =>
      this.log.warn({ point: p.name, err }, 'simulated value does not fit its register'),
    );
    this.model = image.model;
    for (const r of image.registers) this.bank.write('holding', r.address, r.values);
    for (const [name, value] of image.values) this.values.set(name, value);
    this.lastStepMs = deps.clock.now();
    const t = this.time(this.lastStepMs, 0);
    this.model.init(this.values, t);
    this.model.step(this.values, t);
    this.values.sync();
  }

  /** The value a client reading the point now gets (decoded from the registers served). */
  value(point: string): PointValue {
    return this.values.served(point);
  }

  /** Sets a point as a test wants it and keeps it there: the physics no longer move it (see release). */
  setValue(point: string, value: PointValue): void {
    this.values.pin(point, value);
    this.reevaluate();
  }

  /** Hands a point set by setValue back to the physics. */
  release(point: string): void {
    this.values.release(point);
    this.reevaluate();
  }

  /** Raw registers (or 0/1 bits) as served, without any address checks. */
  registers(table: Table, address: number, count: number): number[] {
    return this.bank.read(table, address, count);
  }

  /** The registers a point is served from. */
  pointRegisters(point: string): number[] {
    const p = this.values.point(point);
    if (p === undefined) throw new RangeError(`device ${this.id} has no point named ${point}`);
    return this.values.registersOf(p);
  }

  /** Stops the device's own timers (revert timers); the site calls it when it closes. */
  close(): void {
    this.model.close?.();
  }

  /** Advances the physics to the clock's now (called by the site's tick timer). */
  tick(): void {
    const now = this.deps.clock.now();
    const dtMs = Math.max(0, now - this.lastStepMs);
    this.lastStepMs = now;
    this.model.step(this.values, this.time(now, dtMs));
    this.values.sync();
  }

  /**
   * Serves one request PDU from `peer`; returns the answer PDU, or null for no answer (noAnswer fault,
   * broadcast). Transport faults (delay, dropped connection, corrupt frames) are the server's part.
   */
  handle(pdu: Uint8Array, peer: string, opts: { broadcast?: boolean } = {}): Buffer | null {
    const parsed = parseRequest(pdu);
    const fc = parsed.ok ? parsed.request.fc : parsed.fc;
    const req = parsed.ok ? parsed.request : undefined;
    const record = req?.kind === 'write' ? this.record(req, peer, opts.broadcast === true) : undefined;

    if (this.faults.noAnswer) {
      if (record !== undefined) this.settle(record, 'ignored', null);
      return null;
    }
    const fault = this.faults.exception;
    if (fault !== null && exceptionApplies(fault, fc, req?.table, req?.address, req === undefined ? undefined : count(req))) {
      if (record !== undefined) this.settle(record, 'exception', fault.code);
      return opts.broadcast ? null : exceptionPdu(fc, fault.code);
    }
    if (!parsed.ok) return opts.broadcast ? null : exceptionPdu(parsed.fc, parsed.exceptionCode);
    const request = parsed.request;

    if (request.kind === 'read') {
      if (opts.broadcast) return null; // a broadcast read has nobody to answer it
      const refused = this.readRefusal(request.table, request.address, request.count);
      if (refused !== null) return exceptionPdu(fc, refused);
      return readResponsePdu(request, this.bank.read(request.table, request.address, request.count));
    }
    const refused = this.applyWrite(request);
    if (record !== undefined) this.settle(record, refused === null ? 'applied' : 'exception', refused);
    if (opts.broadcast) return null;
    return refused === null ? writeResponsePdu(request) : exceptionPdu(fc, refused);
  }

  /** Exception code for a read that real hardware would refuse, or null. */
  private readRefusal(table: Table, address: number, n: number): number | null {
    if (this.faults.lenient) return null;
    const ok = this.faults.strictGaps ? this.map.fullyCovered(table, address, n) : this.map.insideSpan(table, address, n);
    return ok ? null : EXCEPTION.illegalDataAddress;
  }

  /**
   * Stores a write if every register/coil it touches belongs to a writable point and every point it
   * changes stays inside its min..max; returns the exception code otherwise (nothing stored):
   * 2 where no point is, 3 for a read-only point or a value out of range or not a number.
   */
  private applyWrite(req: WriteRequest): number | null {
    const touched = new Set<PointConfig>();
    for (let a = req.address; a < req.address + req.values.length; a++) {
      const points = this.map.pointsAt(req.table, a);
      if (points.length === 0) return EXCEPTION.illegalDataAddress;
      for (const p of points) {
        if (p.access === 'read') return EXCEPTION.illegalDataValue;
        touched.add(p);
      }
    }
    for (const p of touched) {
      const regs = this.values.registersOf(p).map((old, i) => {
        const offset = p.address + i - req.address;
        return offset >= 0 && offset < req.values.length ? (req.values[offset] ?? old) : old;
      });
      const v = decodePoint(p, regs, this.values.sfExponent(p));
      if (typeof v !== 'number') continue;
      if (Number.isNaN(v)) return EXCEPTION.illegalDataValue;
      if (p.min !== undefined && v < p.min - RANGE_EPSILON * Math.max(1, Math.abs(p.min))) return EXCEPTION.illegalDataValue;
      if (p.max !== undefined && v > p.max + RANGE_EPSILON * Math.max(1, Math.abs(p.max))) return EXCEPTION.illegalDataValue;
    }
    this.bank.write(req.table, req.address, req.values);
    this.values.absorb([...touched]);
    this.log.debug({ table: req.table, address: req.address, values: req.values }, 'write applied');
    this.model.written?.(this.values, new Set([...touched].map((p) => p.name)), this.time(this.lastStepMs, 0));
    this.reevaluate();
    return null;
  }

  /** A device-side timer changed something: recompute now. Runs from a timer, so it must not throw. */
  private wake(): void {
    try {
      this.reevaluate();
    } catch (err) {
      this.log.error({ err }, 'physics step after a device timer failed');
    }
  }

  /** Recomputes outputs right away (setpoints act at once), without advancing time. */
  private reevaluate(): void {
    this.model.step(this.values, this.time(this.lastStepMs, 0));
    this.values.sync();
  }

  private record(req: WriteRequest, peer: string, broadcast: boolean): WriteRecord {
    const record: WriteRecord = {
      atMs: performance.timeOrigin + performance.now(),
      device: this.id,
      unitId: broadcast ? 0 : this.unitId,
      fc: req.fc,
      table: req.table,
      address: req.address,
      values: [...req.values],
      peer,
      outcome: 'ignored',
      exceptionCode: null,
    };
    this.writes.push(record);
    return record;
  }

  /** Completes a record with what became of the write, then reports it. */
  private settle(record: WriteRecord, outcome: WriteRecord['outcome'], exceptionCode: number | null): void {
    record.outcome = outcome;
    record.exceptionCode = exceptionCode;
    this.deps.onWrite?.(record);
  }

  private time(nowMs: number, dtMs: number): StepTime {
    const day = this.deps.clock.dayLengthMs;
    return {
      nowMs,
      dtMs,
      simDtH: (dtMs * (MS_PER_DAY / day)) / MS_PER_HOUR,
      dayFraction: (((nowMs % day) + day) % day) / day,
    };
  }
}

function count(req: { kind: 'read'; count: number } | { kind: 'write'; values: number[] }): number {
  return req.kind === 'read' ? req.count : req.values.length;
}

/**
 * `device.handle()` for the servers: a bug in a model or a value that cannot be decoded must not take
 * the whole simulator down, so it is logged and answered with exception 4 (server device failure).
 */
export function answerOf(device: SimulatedDevice, pdu: Uint8Array, peer: string, log: Logger, opts: { broadcast?: boolean } = {}): Buffer | null {
  try {
    return device.handle(pdu, peer, opts);
  } catch (err) {
    log.error({ err, device: device.id }, 'request failed inside the simulated device');
    return opts.broadcast ? null : exceptionPdu(pdu[0] ?? 0, EXCEPTION.serverDeviceFailure);
  }
}
