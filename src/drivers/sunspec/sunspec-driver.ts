// A device with `profile: sunspec` (CONTRACT.md section 6): it describes itself, so its points come
// from discovery, not from a register map.
//
// poll():
//  - discovers at the first poll, and again after the bus reconnected, after a failed poll, and
//    when a read is refused with an illegal-address answer or a model's ID and L registers no
//    longer say what discovery found (a firmware update may have moved the models). The layout is
//    cached in between; a walk that finds the same models keeps what the read plan has learned.
//  - reads the models through the device planner (model-reads.ts) and publishes every model point
//    as `m<model>_<Point>` (scale factors applied, not-implemented as null), the standard names of
//    the generic profiles (standard-names.ts) and the controls' readings (controls.ts); the
//    config's own `points:` are read by a DeviceDriver and published over any of those by name.
//  - bad data (a chain that does not fit, a scale factor out of range, a required model missing)
//    fails the poll with a SunSpecDataError naming what is wrong: nothing of that poll is published.
//    A failing device is backed off like any other (poll-health.ts).
// write(): the control's recipe on the model that carries it (control-write.ts); a config point by
//  its DeviceDriver. writeHeld()/releaseHeld(): a control as a held setpoint, its revert timer
//  programmed with every write (control-hold.ts, CONTRACT.md section 7).
import type { Logger } from 'pino';
import type { DeviceConfig, PointConfig, PointValue, SunSpecConfig } from '../../config/types.js';
import type { ControlDescription, Driver, DriverFallback, ReadValue } from '../driver.js';
import { CodecError, ModbusExceptionError } from '../errors.js';
import { DeviceDriver, type DeviceDriverStats } from '../device/device-driver.js';
import type { PlanOptions } from '../device/planner.js';
import { PollHealth, type PollHealthDeps } from '../device/poll-health.js';
import type { UnitHandle } from '../modbus/bus.js';
import { programRevert, switchOff } from './control-hold.js';
import { writeControl } from './control-write.js';
import { CONTROL_OFF_VALUE, CONTROL_RANGE, controlModels, controlReadings, findRecipe, isControl, SUNSPEC_CONTROLS, type ControlName, type Recipe } from './controls.js';
import { decodeValue, type SunSpecValue } from './decode.js';
import { decodeModel } from './decode-model.js';
import { layOutDevice, sameModels, type DeviceLayout } from './device-layout.js';
import { discoverChain } from './discovery.js';
import { SunSpecDataError } from './errors.js';
import { ModelReadPlan } from './model-reads.js';
import { scaleFactorExponent } from './scale-factor.js';
import { standardValues } from './standard-names.js';

export interface SunSpecDriverDeps extends PollHealthDeps {
  logger: Logger;
  /** Read every written control back and compare (control.verifyWrites). */
  verifyWrites: boolean;
  /** Read planning limits; default the protocol's. */
  plan?: PlanOptions;
}

/** `requestsPerPoll` is 0 before the first discovery. */
export interface SunSpecDriverStats extends DeviceDriverStats {
  /** Chain walks so far, and how long the last one took, ms. */
  discoveries: number;
  lastDiscoveryMs: number | null;
}

/** Published names of model points: `m103_W`, `m160_2_DCW`. */
const M_NAME_RE = /^m[0-9]+_/;
const ILLEGAL_ADDRESS_CODES: ReadonlySet<number> = new Set([1, 2]);

export class SunSpecDriver implements Driver {
  readonly id: string;
  private readonly cfg: SunSpecConfig;
  private readonly log: Logger;
  private readonly health: PollHealth;
  /** The config's own points (extras and overrides), read and written as any profile's. */
  private readonly extras: DeviceDriver | null;
  private readonly extraNames: ReadonlySet<string>;
  private layout: DeviceLayout | null = null;
  private reads: ModelReadPlan | null = null;
  /** The bus connection the layout was found on. */
  private discoveredOn: number | undefined;
  private stale = true;
  private discovering: Promise<DeviceLayout> | null = null;
  private pollInFlight: Promise<Record<string, ReadValue>> | null = null;
  /** The m-values of the last good poll: scale factors for writes. */
  private lastValues: Readonly<Record<string, SunSpecValue>> = {};
  private discoveries = 0;
  private lastDiscoveryMs: number | null = null;
  /** Held controls whose device implements no revert timer: warned once each. */
  private readonly warnedNoTimer = new Set<string>();

  constructor(
    device: DeviceConfig,
    private readonly unit: UnitHandle,
    private readonly deps: SunSpecDriverDeps,
  ) {
    if (device.sunspec === undefined) throw new RangeError(`device ${device.id} has no sunspec settings`);
    this.id = device.id;
    this.cfg = device.sunspec;
    this.log = deps.logger.child({ device: device.id, bus: unit.busId, unit: unit.unitId });
    this.health = new PollHealth(this.log, deps);
    this.extras = device.points.length === 0 ? null : new DeviceDriver(device, unit, deps);
    this.extraNames = new Set(device.points.map((p) => p.name));
  }

  /** The device as last discovered; null before the first discovery. */
  get discovered(): DeviceLayout | null {
    return this.layout;
  }

  stats(): SunSpecDriverStats {
    return {
      device: this.id,
      busId: this.unit.busId,
      unitId: this.unit.unitId,
      ...this.health.counters,
      lastPollDurationMs: this.health.lastPollDurationMs,
      requestsPerPoll: (this.reads?.blocks().length ?? 0) + (this.extras?.blocks().length ?? 0),
      backedOffUntilMs: this.health.backedOffUntilMs,
      discoveries: this.discoveries,
      lastDiscoveryMs: this.lastDiscoveryMs,
    };
  }

  /** A call made while a poll is running gets that poll's result (polls never overlap). */
  poll(): Promise<Record<string, ReadValue>> {
    if (this.pollInFlight === null) {
      this.pollInFlight = this.pollOnce().finally(() => {
        this.pollInFlight = null;
      });
    }
    return this.pollInFlight;
  }

  async write(point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: ReadValue }> {
    if (this.extras !== null && this.extraNames.has(point)) return this.extras.write(point, value, guard);
    const { recipe, setpoint, sfExponent } = await this.control(point, value);
    const readBack = await writeControl(this.unit, recipe, setpoint, { guard, sfExponent, verifyWrites: this.deps.verifyWrites, device: this.id });
    this.log.info({ point, value, model: recipe.model, readBack }, 'control written');
    return { readBack };
  }

  /**
   * A control as a held setpoint (CONTRACT.md section 7): it falls back to CONTROL_OFF_VALUE (the
   * control switched off) after sunspec.revertSeconds without a write. Undefined for other points.
   */
  fallbackOf(point: string): DriverFallback | undefined {
    if (this.extraNames.has(point) || !isControl(point)) return undefined;
    return { value: CONTROL_OFF_VALUE, revertSeconds: this.cfg.revertSeconds };
  }

  /** Writes a held control: its revert timer where it differs from revertSeconds (control-hold.ts), then the control. */
  async writeHeld(point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: ReadValue }> {
    const { recipe, setpoint, sfExponent } = await this.control(point, value);
    const timer = await programRevert(this.unit, recipe, this.cfg.revertSeconds, this.lastValues, { guard, sfExponent, device: this.id });
    if (!timer && !this.warnedNoTimer.has(point)) {
      this.warnedNoTimer.add(point);
      this.log.warn({ point, model: recipe.model }, 'the device implements no revert timer for this control: it will not fall back by itself if every gateway is gone');
    }
    const readBack = await writeControl(this.unit, recipe, setpoint, { guard, sfExponent, verifyWrites: this.deps.verifyWrites, device: this.id });
    this.log.info({ point, value, model: recipe.model, readBack, revertSeconds: timer ? this.cfg.revertSeconds : null }, 'held control written');
    return { readBack };
  }

  /** Releases a held control: switched off, as the device's own timer would (control-hold.ts). */
  async releaseHeld(point: string, guard: () => boolean): Promise<{ readBack: ReadValue }> {
    const { recipe } = await this.control(point, CONTROL_OFF_VALUE);
    const readBack = await switchOff(this.unit, recipe, { guard, verifyWrites: this.deps.verifyWrites, device: this.id });
    this.log.info({ point, model: recipe.model, readBack }, 'held control released');
    return { readBack };
  }

  describeControl(point: string): ControlDescription | undefined {
    if (!isControl(point)) {
      if (!M_NAME_RE.test(point)) return undefined;
      return { ok: false, reason: `point: ${this.id}.${point} is a SunSpec reading; the controls are ${SUNSPEC_CONTROLS.join(', ')} where the device's models carry them` };
    }
    // Not discovered yet: the write discovers, and fails if the device has no such control.
    if (this.layout !== null && findRecipe(point, this.layout.models) === undefined) return { ok: false, reason: `point: ${this.noControl(point, this.layout)}` };
    return { ok: true, point: controlPoint(point) };
  }

  // ---- poll --------------------------------------------------------------------------------------

  private async pollOnce(): Promise<Record<string, ReadValue>> {
    return this.health.run(async () => {
      try {
        return await this.readAll();
      } catch (err) {
        // Whatever went wrong, the next poll walks the chain first: the device may be another one now.
        this.stale = true;
        throw err;
      }
    });
  }

  private async readAll(): Promise<Record<string, ReadValue>> {
    let walked = false;
    if (this.needsDiscovery()) {
      await this.discover();
      walked = true;
    }
    for (;;) {
      const layout = this.layout;
      const reads = this.reads;
      if (layout === null || reads === null) throw new Error('SunSpec device not discovered'); // discover() sets both
      try {
        const models = await reads.read(this.unit, { log: this.log, splitRefused: walked });
        const values: Record<string, SunSpecValue> = {};
        for (const m of models) Object.assign(values, decodeModel(m.layout, m.registers));
        const published = this.publish(layout, values);
        if (this.extras !== null) Object.assign(published, await this.extras.poll());
        this.lastValues = values;
        return published;
      } catch (err) {
        if (walked || !layoutSuspect(err)) throw err;
        // The device refused a read or moved a model: walk again (once per poll) before learning anything.
        const before = layout;
        const after = await this.discover();
        walked = true;
        this.log.info({ err, changed: !sameModels(before, after) }, 'SunSpec chain walked again after a read that did not fit the layout');
      }
    }
  }

  private publish(layout: DeviceLayout, values: Readonly<Record<string, SunSpecValue>>): Record<string, ReadValue> {
    const ids = new Set(layout.models.map((m) => m.def.id));
    return { ...standardValues(values, ids), ...controlReadings(values, layout.models), ...values };
  }

  // ---- discovery ---------------------------------------------------------------------------------

  private needsDiscovery(): boolean {
    return this.layout === null || this.stale || this.unit.connections?.() !== this.discoveredOn;
  }

  /** Walks the chain (one walk at a time, shared by a poll and a write that need it at once). */
  private discover(): Promise<DeviceLayout> {
    this.discovering ??= this.walk().finally(() => {
      this.discovering = null;
    });
    return this.discovering;
  }

  private async walk(): Promise<DeviceLayout> {
    const startedMs = this.health.now();
    const discovery = await discoverChain(this.unit, { baseAddress: this.cfg.baseAddress });
    const found = await layOutDevice(this.unit, discovery, { index: this.cfg.index, required: this.cfg.models });
    this.discoveries += 1;
    this.lastDiscoveryMs = this.health.now() - startedMs;
    if (this.layout === null || this.reads === null || !sameModels(this.layout, found)) {
      this.layout = found;
      this.reads = new ModelReadPlan(found.models, this.deps.plan);
      this.log.info(
        {
          baseAddress: found.baseAddress,
          index: found.device.index,
          models: found.device.models.map((m) => `${m.id}@${m.start}+${m.length}`),
          skipped: found.skipped.map((m) => m.id),
          requestsPerPoll: this.reads.blocks().length,
          discoveryMs: Math.round(this.lastDiscoveryMs),
        },
        'SunSpec device discovered',
      );
    }
    // Taken after the walk: its own first request may have been the one that opened the connection.
    this.discoveredOn = this.unit.connections?.();
    this.stale = false;
    return this.layout;
  }

  // ---- write -------------------------------------------------------------------------------------

  /** The recipe of control `point` for `value` (%), discovering first when needed. Throws CodecError. */
  private async control(point: string, value: PointValue): Promise<{ recipe: Recipe; setpoint: number; sfExponent: number }> {
    if (!isControl(point)) throw new CodecError('POINT_INVALID', point, `Device ${this.id} has no writable point ${point}`);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new CodecError('WRONG_TYPE', point, `Point ${point} of device ${this.id}: expected a number, got ${JSON.stringify(value)}`);
    }
    if (value < CONTROL_RANGE.min || value > CONTROL_RANGE.max) {
      throw new CodecError('VALUE_OUT_OF_RANGE', point, `Point ${point} of device ${this.id}: ${value} is outside ${CONTROL_RANGE.min}..${CONTROL_RANGE.max}`);
    }
    const layout = this.needsDiscovery() ? await this.discover() : this.layout;
    const recipe = layout === null ? undefined : findRecipe(point, layout.models);
    if (layout === null || recipe === undefined) throw new CodecError('POINT_INVALID', point, this.noControl(point, layout));
    return { recipe, setpoint: value, sfExponent: await this.scaleFactorForWrite(recipe) };
  }

  /** The exponent of the setpoint's scale factor: from the last good poll, else read now. */
  private async scaleFactorForWrite(recipe: Recipe): Promise<number> {
    const sf = recipe.value.sf;
    if (sf === undefined) return 0;
    if (typeof sf === 'number') return sf;
    let value = this.lastValues[sf];
    if (value === undefined) {
      const point = this.layout?.models.flatMap((m) => m.points).find((p) => p.name === sf);
      if (point === undefined) throw new CodecError('POINT_INVALID', recipe.control, `Device ${this.id}: no scale factor point ${sf}`);
      value = decodeValue(point.def, await this.unit.read('holding', point.address, point.def.size, { priority: 'write' }));
    }
    const exponent = scaleFactorExponent(value, { model: recipe.model, sfPoint: sf });
    if (exponent === null) {
      throw new CodecError('POINT_INVALID', recipe.control, `Device ${this.id}: cannot write ${recipe.control}: its scale factor ${sf} is not implemented`);
    }
    return exponent;
  }

  private noControl(control: ControlName, layout: DeviceLayout | null): string {
    const has = layout === null ? 'has not been discovered' : `has models ${layout.device.models.map((m) => m.id).join(', ')}`;
    return `SunSpec device ${this.id} has no ${control}: it needs model ${controlModels(control).join(' or ')}, and the device ${has}`;
  }
}

/** A refused read or a moved model header: signs that the layout may be out of date. */
function layoutSuspect(err: unknown): boolean {
  if (err instanceof ModbusExceptionError) return ILLEGAL_ADDRESS_CODES.has(err.exceptionCode);
  return err instanceof SunSpecDataError && err.code === 'HEADER_MISMATCH';
}

/** What a command on a control is checked against: a number of percent, 0..100. */
function controlPoint(control: ControlName): PointConfig {
  return {
    name: control,
    table: 'holding',
    address: 0,
    type: 'float64',
    wordOrder: 'big',
    byteOrder: 'big',
    scale: 1,
    offset: 0,
    access: 'readwrite',
    unit: CONTROL_RANGE.unit,
    min: CONTROL_RANGE.min,
    max: CONTROL_RANGE.max,
  };
}
