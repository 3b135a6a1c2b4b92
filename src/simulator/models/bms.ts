// A lithium-ion battery pack of 280 Ah, 112 cells in series (about 340..470 V). The current follows a
// slow demand pattern clamped by the writable charge/discharge current limits; state of charge
// integrates the current over the compressed time. Point names are those of profiles/generic-bms.yaml.
// Sign convention of the profile: packCurrent > 0 charges, < 0 discharges. Its revert timer
// (currentLimitRevertS, s) puts both current limits back to 100 A when nobody writes them.
import { noise, type Random } from '../random.js';
import { clamp, lag, type DeviceModel, type PointIO, type StepTime } from './model.js';
import { PointRevert, type PointRevertDeps } from './point-revert.js';

export const CAPACITY_AH = 280;
const CELLS = 112;
/** Internal resistance per cell, ohm: charging lifts the cell voltage, discharging lowers it. */
const CELL_RESISTANCE_OHM = 0.0004;
const CELL_SPREAD_LOW_V = 0.012;
const CELL_SPREAD_HIGH_V = 0.015;
const CELL_MAX_V = 4.2;
const CELL_MIN_V = 3.0;
const MAX_TEMPERATURE_C = 50;
const AMBIENT_C = 22;
const THERMAL_TAU_MS = 30_000;
const DEFAULT_LIMIT_A = 100;

/** Open-circuit cell voltage at state of charge `soc` (0..1): steep at both ends, flat in the middle. */
export function cellOpenCircuitV(soc: number): number {
  const s = clamp(soc, 0, 1);
  return 3.05 + 0.95 * s + 0.12 * (s - 0.5) ** 3 - 0.1 * Math.exp(-20 * s);
}

/** What the site asks of the battery, A (+ charge): two slow waves over the compressed day. */
function demandA(dayFraction: number): number {
  return 60 * Math.sin(2 * Math.PI * dayFraction * 6) + 20 * Math.sin(2 * Math.PI * dayFraction * 17 + 1);
}

export class BmsModel implements DeviceModel {
  /** Mean cell temperature, °C (kept here: the served min/max may be pinned by a test). */
  private temperatureC = AMBIENT_C;

  private readonly revert: PointRevert;

  constructor(
    private readonly random: Random,
    deps: PointRevertDeps,
  ) {
    const safe = new Map([
      ['chargeCurrentLimit', DEFAULT_LIMIT_A],
      ['dischargeCurrentLimit', DEFAULT_LIMIT_A],
    ]);
    this.revert = new PointRevert('currentLimitRevertS', safe, deps);
  }

  init(io: PointIO): void {
    io.set('stateOfCharge', 55);
    io.set('stateOfHealth', 97);
    io.set('chargeCurrentLimit', DEFAULT_LIMIT_A);
    io.set('dischargeCurrentLimit', DEFAULT_LIMIT_A);
    io.set('currentLimitRevertS', 0); // no timer until a controller programs one
  }

  written(io: PointIO, names: ReadonlySet<string>): void {
    this.revert.written(io, names);
  }

  close(): void {
    this.revert.close();
  }

  step(io: PointIO, t: StepTime): void {
    this.revert.apply(io);
    const chargeLimitA = Math.max(0, io.num('chargeCurrentLimit') ?? DEFAULT_LIMIT_A);
    const dischargeLimitA = Math.max(0, io.num('dischargeCurrentLimit') ?? DEFAULT_LIMIT_A);
    const socPct = io.num('stateOfCharge') ?? 50;
    let currentA = clamp(demandA(t.dayFraction) + noise(this.random, 1), -dischargeLimitA, chargeLimitA);
    // A full pack takes no charge, an empty one gives none.
    if ((socPct >= 100 && currentA > 0) || (socPct <= 0 && currentA < 0)) currentA = 0;
    io.set('packCurrent', currentA);
    // A test may pin packCurrent: integrate whatever the pack serves.
    const servedA = io.num('packCurrent') ?? currentA;

    const newSocPct = clamp(socPct + (servedA * t.simDtH * 100) / CAPACITY_AH, 0, 100);
    io.set('stateOfCharge', newSocPct);
    const cellV = cellOpenCircuitV(newSocPct / 100) + servedA * CELL_RESISTANCE_OHM;
    const cellMinV = cellV - CELL_SPREAD_LOW_V;
    const cellMaxV = cellV + CELL_SPREAD_HIGH_V;
    io.set('cellVoltageMin', cellMinV);
    io.set('cellVoltageMax', cellMaxV);
    io.set('packVoltage', cellV * CELLS);

    this.temperatureC = lag(this.temperatureC, AMBIENT_C + 0.08 * Math.abs(servedA), t.dtMs, THERMAL_TAU_MS);
    const tempC = this.temperatureC;
    io.set('temperatureMin', tempC - 1.5);
    io.set('temperatureMax', tempC + 1.5);

    io.set('alarmOverVoltage', (io.num('cellVoltageMax') ?? cellMaxV) > CELL_MAX_V);
    io.set('alarmUnderVoltage', (io.num('cellVoltageMin') ?? cellMinV) < CELL_MIN_V);
    io.set('alarmOverTemperature', (io.num('temperatureMax') ?? tempC) > MAX_TEMPERATURE_C);
  }
}
