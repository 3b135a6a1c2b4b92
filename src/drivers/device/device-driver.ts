// One device on its bus: reads all its points in one poll (the requests of its ReadPlan, one after
// the other through the bus queue) and writes single points.
//
// poll():
//  - exception 2 (illegal data address) on a merged read: the plan splits that read and the smaller
//    reads are tried in the same poll; the plan keeps the split, so the failing request is not sent
//    again. A point the device refuses on its own is left out of the values from then on.
//  - any other failure ends the poll with that typed error (no partial result): a device whose
//    first read times out is not asked again in this poll, so it holds its bus for one timeoutMs.
//  - a point whose registers cannot be decoded fails the poll with the CodecError naming it.
//  - scale-factor points are decoded first and applied to the points that name them.
//  - a device that keeps failing is backed off (poll-health.ts): its polls reject at once with the
//    last error and send nothing, so a dead device does not cost its bus a timeout every cycle.
// write(): check min..max and encode first (CodecError before anything is sent), read the register
//  of a `bit` point, send through the bus queue ahead of waiting polls with `guard` checked right
//  before the bytes go out, then (verifyWrites) read back and compare.
import type { Logger } from 'pino';
import { pointWidth } from '../../config/point-width.js';
import type { DeviceConfig, PointConfig, PointValue } from '../../config/types.js';
import type { UnitHandle } from '../modbus/bus.js';
import { decodePoint, encodePoint } from './codec.js';
import { CodecError, ModbusExceptionError, ReadBackMismatchError, type RequestContext } from '../errors.js';
import { READ_FUNCTION } from '../modbus/pdu.js';
import { ReadPlan, describeBlock, type PlanOptions, type ReadBlock } from './planner.js';
import { PollHealth, type PollHealthDeps } from './poll-health.js';
import { readBackMatches } from './read-back.js';
/** Exceptions after which a read of the same addresses will never succeed: 1 illegal function, 2 illegal data address. */
const REFUSED_READ_CODES: ReadonlySet<number> = new Set([1, 2]);

/** A point's registers (or bit) in a poll: the answer of the read that carried it, from index `at`. */
interface Found {
  readonly answer: readonly number[];
  readonly at: number;
}

export interface DeviceDriverDeps extends PollHealthDeps {
  logger: Logger;
  /** Read every written point back and compare (control.verifyWrites). */
  verifyWrites: boolean;
  /** Read planning limits; default the protocol's. */
  plan?: PlanOptions;
}

/** Counters for metrics and health. */
export interface DeviceDriverStats {
  device: string;
  busId: string;
  unitId: number;
  /** Polls that went to the bus (skipped ones not counted). */
  polls: number;
  failedPolls: number;
  /** Polls refused without bus traffic because the device is backed off. */
  skippedPolls: number;
  consecutiveFailures: number;
  /** Wall time of the last poll that went to the bus, ms; null before the first. */
  lastPollDurationMs: number | null;
  /** Requests one poll takes with the current plan. */
  requestsPerPoll: number;
  /** Until when (deps.now clock, ms) polls are skipped; null when not backed off. */
  backedOffUntilMs: number | null;
}

export class DeviceDriver {
  readonly id: string;
  private readonly log: Logger;
  private readonly health: PollHealth;
  private readonly plan: ReadPlan;
  private readonly points = new Map<string, PointConfig>();
  /** Points a poll returns (access read or readwrite). */
  private readonly readable: PointConfig[];
  /** Names of the points other points take their scale factor from. */
  private readonly scaleFactorNames: Set<string>;
  /** Scale factors from the last good poll, for writes. */
  private readonly scaleFactors = new Map<string, number>();
  private readonly warnedUndecodable = new Set<string>();
  /** The device answered FC6 with exception 1: single registers go with FC16. */
  private singleWriteRefused = false;
  private pollInFlight: Promise<Record<string, PointValue>> | null = null;

  constructor(
    device: DeviceConfig,
    private readonly unit: UnitHandle,
    private readonly deps: DeviceDriverDeps,
  ) {
    this.id = device.id;
    this.log = deps.logger.child({ device: device.id, bus: unit.busId, unit: unit.unitId });
    this.health = new PollHealth(this.log, deps);
    for (const p of device.points) this.points.set(p.name, p);
    this.readable = device.points.filter((p) => p.access !== 'write');
    this.scaleFactorNames = new Set(device.points.flatMap((p) => (p.scaleFactor === undefined ? [] : [p.scaleFactor])));
    const toRead = device.points.filter((p) => p.access !== 'write' || this.scaleFactorNames.has(p.name));
    this.plan = new ReadPlan(toRead, deps.plan);
  }

  /** The requests of one poll as the plan stands now (after any splits learned). */
  blocks(): ReadBlock[] {
    return this.plan.blocks();
  }

  /** Points the device refused to read on their own (exception 2); they are no longer asked for. */
  unreadablePoints(): string[] {
    return this.plan.unreadablePoints().map((p) => p.name);
  }

  stats(): DeviceDriverStats {
    return {
      device: this.id,
      busId: this.unit.busId,
      unitId: this.unit.unitId,
      ...this.health.counters,
      lastPollDurationMs: this.health.lastPollDurationMs,
      requestsPerPoll: this.plan.blocks().length,
      backedOffUntilMs: this.health.backedOffUntilMs,
    };
  }

  /**
   * Values of every readable point, by name. Throws a typed driver error (see the file comment).
   * A call made while a poll is running gets that poll's result (polls never overlap).
   */
  poll(): Promise<Record<string, PointValue>> {
    if (this.pollInFlight === null) {
      this.pollInFlight = this.pollOnce().finally(() => {
        this.pollInFlight = null;
      });
    }
    return this.pollInFlight;
  }

  private async pollOnce(): Promise<Record<string, PointValue>> {
    return this.health.run(async () => this.decodeAll(await this.readAll()));
  }

  /**
   * Writes one point. `guard` is called inside the bus queue right before the write goes on the
   * wire; false => GateClosedError and nothing is sent. Returns the value read back (null when
   * verifyWrites is off or the point is write-only). Throws CodecError (before anything is sent),
   * GateClosedError, ReadBackMismatchError or a bus error.
   */
  async write(pointName: string, value: PointValue, guard: () => boolean): Promise<{ readBack: PointValue | null }> {
    const p = this.points.get(pointName);
    if (p === undefined) throw new CodecError('POINT_INVALID', pointName, `Device ${this.id} has no point ${pointName}`);
    if (p.access === 'read' || (p.table !== 'holding' && p.table !== 'coil')) {
      throw new CodecError('POINT_INVALID', pointName, `Point ${pointName} of device ${this.id} is not writable (${p.table}, access ${p.access})`);
    }
    if (typeof value === 'number' && ((p.min !== undefined && value < p.min) || (p.max !== undefined && value > p.max))) {
      // The command handler checks this first; the driver is the last line before the wire.
      throw new CodecError('VALUE_OUT_OF_RANGE', p.name, `Point ${p.name} of device ${this.id}: ${value} is outside ${p.min ?? '-inf'}..${p.max ?? 'inf'}`);
    }
    const sfExponent = p.scaleFactor === undefined ? undefined : await this.scaleFactorForWrite(p.scaleFactor);
    // Encode before anything goes out: a bad value fails here (a bit point: against a dummy register).
    let regs = encodePoint(p, value, sfExponent, p.bit === undefined ? undefined : 0);
    if (p.bit !== undefined) {
      const [current] = await this.unit.read('holding', p.address, 1, { priority: 'write' });
      regs = encodePoint(p, value, sfExponent, current);
    }
    if (p.table === 'coil') await this.unit.writeCoil(p.address, regs[0] === 1, { guard, point: p.name });
    else await this.writeRegisters(p, regs, guard);
    this.log.info({ point: p.name, value, registers: regs }, 'point written');

    if (!this.deps.verifyWrites || p.access === 'write') return { readBack: null };
    const back = await this.unit.read(p.table, p.address, pointWidth(p), { priority: 'write' });
    const actual = decodePoint(p, back, sfExponent);
    const intended = decodePoint(p, regs, sfExponent);
    if (!readBackMatches(p, value, intended, actual, sfExponent)) {
      throw new ReadBackMismatchError(p.name, value, actual, this.context(p));
    }
    return { readBack: actual };
  }

  /**
   * FC6 for a single register, FC16 for more. A device that answers FC6 with exception 1 (many
   * energy devices implement only FC16) gets the same write again as FC16 (the gate asked again),
   * and FC16 from then on.
   */
  private async writeRegisters(p: PointConfig, regs: number[], guard: () => boolean): Promise<void> {
    try {
      await this.unit.writeRegisters(p.address, regs, { guard, point: p.name, multiple: this.singleWriteRefused });
    } catch (err) {
      if (this.singleWriteRefused || regs.length !== 1 || !(err instanceof ModbusExceptionError) || err.exceptionCode !== 1) throw err;
      this.singleWriteRefused = true;
      this.log.info({ point: p.name }, 'device refused FC6 (illegal function): writing single registers with FC16 from now on');
      await this.unit.writeRegisters(p.address, regs, { guard, point: p.name, multiple: true });
    }
  }

  // ---- poll --------------------------------------------------------------------------------------

  /**
   * Where every planned point is in the answers of this poll: its read's answer and its offset there,
   * so decodeAll() decodes each point straight from the answer without copying a register. Splits
   * blocks refused with exception 2 (or 1).
   */
  private async readAll(): Promise<Map<string, Found>> {
    const found = new Map<string, Found>();
    const pending = this.plan.blocks();
    for (let block = pending.shift(); block !== undefined; block = pending.shift()) {
      let answer: number[];
      try {
        answer = await this.unit.read(block.table, block.address, block.count);
      } catch (err) {
        // Exception 2 (no such address) and 1 (the device lacks this read function altogether, e.g.
        // no coils) are permanent answers about the addresses asked for: split and learn.
        if (!(err instanceof ModbusExceptionError) || !REFUSED_READ_CODES.has(err.exceptionCode)) throw err;
        const parts = this.plan.split(block);
        this.log.info(
          { block: describeBlock(block), into: parts.map(describeBlock), unreadable: parts.length === 0 ? this.unreadablePoints() : undefined },
          `device refused a read with exception ${err.exceptionCode}: read split`,
        );
        pending.unshift(...parts);
        continue;
      }
      for (const p of this.plan.pointsIn(block)) found.set(p.name, { answer, at: this.plan.offsetOf(block, answer, p) });
    }
    return found;
  }

  private decodeAll(found: ReadonlyMap<string, Found>): Record<string, PointValue> {
    const scaleFactors = new Map<string, number>();
    for (const name of this.scaleFactorNames) {
      const p = this.points.get(name);
      const slot = found.get(name);
      if (p === undefined || slot === undefined) continue;
      const sf = decodePoint(p, slot.answer, 0, slot.at);
      if (typeof sf === 'number') scaleFactors.set(name, sf);
    }
    const values: Record<string, PointValue> = {};
    for (const p of this.readable) {
      const slot = found.get(p.name);
      if (slot === undefined) continue; // set aside as unreadable by the plan
      let sfExponent: number | undefined;
      if (p.scaleFactor !== undefined) {
        sfExponent = scaleFactors.get(p.scaleFactor);
        if (sfExponent === undefined) {
          this.warnUndecodable(p, `its scale factor ${p.scaleFactor} cannot be read`);
          continue;
        }
      }
      values[p.name] = decodePoint(p, slot.answer, sfExponent, slot.at);
    }
    for (const [name, sf] of scaleFactors) this.scaleFactors.set(name, sf);
    return values;
  }

  private warnUndecodable(p: PointConfig, why: string): void {
    if (this.warnedUndecodable.has(p.name)) return;
    this.warnedUndecodable.add(p.name);
    this.log.warn({ point: p.name }, `point left out of the readings: ${why}`);
  }

  // ---- write -------------------------------------------------------------------------------------

  /** The exponent of a scale-factor point: from the last good poll, else read now. */
  private async scaleFactorForWrite(name: string): Promise<number> {
    const cached = this.scaleFactors.get(name);
    if (cached !== undefined) return cached;
    const p = this.points.get(name);
    if (p === undefined) throw new CodecError('POINT_INVALID', name, `Device ${this.id} has no scale factor point ${name}`);
    const regs = await this.unit.read(p.table, p.address, pointWidth(p), { priority: 'write' });
    const sf = decodePoint(p, regs);
    if (typeof sf !== 'number') throw new CodecError('POINT_INVALID', name, `Scale factor point ${name} of device ${this.id} is not numeric`);
    this.scaleFactors.set(name, sf);
    return sf;
  }

  private context(p: PointConfig): RequestContext {
    return {
      bus: this.unit.busId,
      device: this.id,
      unit: this.unit.unitId,
      fc: READ_FUNCTION[p.table],
      table: p.table,
      address: p.address,
      count: pointWidth(p),
    };
  }
}
