// A three-phase PV inverter of 10 kW: output follows the sun over the compressed day, scaled by the
// active power limit (%), zero when disabled. Point names are those of profiles/generic-inverter.yaml.
// Its revert timer (activePowerLimitRevertS, s) puts the limit back to 100 % when nobody writes it.
import { hashSeed, noise, type Random } from '../random.js';
import { clamp, lag, type DeviceModel, type PointIO, type StepTime } from './model.js';
import { PointRevert, type PointRevertDeps } from './point-revert.js';

const RATED_W = 10_000;
const DC_EFFICIENCY = 0.97;
/** Heat-sink temperature: ambient plus this much at rated power, reached with a time constant. */
const AMBIENT_C = 25;
const RISE_AT_RATED_C = 30;
const THERMAL_TAU_MS = 20_000;

/** Clear-sky irradiance as a fraction of the peak, 0 at night: a sine from 06:00 to 18:00. */
export function sunFactor(dayFraction: number): number {
  const hour = dayFraction * 24;
  if (hour <= 6 || hour >= 18) return 0;
  return Math.sin((Math.PI * (hour - 6)) / 12);
}

/** Passing clouds: a slow, deterministic dimming between 0.9 and 1 over the day. */
export function cloudFactor(dayFraction: number): number {
  return 0.95 + 0.05 * Math.sin(2 * Math.PI * dayFraction * 9);
}

/** Where the inverter's limit goes by itself when its revert timer runs out, %: no curtailment. */
const SAFE_LIMIT_PCT = 100;

export class InverterModel implements DeviceModel {
  private readonly revert: PointRevert;

  constructor(
    private readonly deviceId: string,
    private readonly random: Random,
    deps: PointRevertDeps,
  ) {
    this.revert = new PointRevert('activePowerLimitRevertS', new Map([['activePowerLimit', SAFE_LIMIT_PCT]]), deps);
  }

  written(io: PointIO, names: ReadonlySet<string>): void {
    this.revert.written(io, names);
  }

  close(): void {
    this.revert.close();
  }

  init(io: PointIO): void {
    // SunSpec-style exponent: activePower is served in 10 W steps, so a client must apply W_SF.
    io.set('W_SF', 1);
    io.set('activePowerLimit', SAFE_LIMIT_PCT);
    io.set('activePowerLimitRevertS', 0); // no timer until a controller programs one
    io.set('enabled', true);
    io.set('energyTotal', 2_000_000 + Math.round(this.random() * 1_000_000));
    io.set('temperature', AMBIENT_C);
    io.set('serialNumber', `GK-INV-${hashSeed(this.deviceId).toString(16).padStart(8, '0')}`);
  }

  step(io: PointIO, t: StepTime): void {
    this.revert.apply(io);
    const limitPct = clamp(io.num('activePowerLimit') ?? 100, 0, 100);
    const enabled = io.bool('enabled') ?? true;
    const sun = sunFactor(t.dayFraction);
    const availableW = RATED_W * sun * cloudFactor(t.dayFraction) * (1 + noise(this.random, 0.002));
    // Simplified on purpose: the limit scales the output at any time of day (a real inverter caps it),
    // so that a written limit shows at once in the readings.
    let powerW = enabled ? clamp(availableW, 0, RATED_W) * (limitPct / 100) : 0;
    if (powerW < 1) powerW = 0;
    io.set('activePower', powerW);

    const volts = [1, 2, 3].map(() => 230 + noise(this.random, 1));
    volts.forEach((v, i) => {
      io.set(`voltageL${i + 1}`, v);
      io.set(`currentL${i + 1}`, powerW / 3 / v);
    });
    io.set('frequency', 50 + noise(this.random, 0.01));
    io.set('dcPower', powerW / DC_EFFICIENCY);

    const targetC = AMBIENT_C + (RISE_AT_RATED_C * powerW) / RATED_W;
    io.set('temperature', lag(io.num('temperature') ?? AMBIENT_C, targetC, t.dtMs, THERMAL_TAU_MS));
    io.set('energyTotal', (io.num('energyTotal') ?? 0) + powerW * t.simDtH);
    // Profile enum: 1 off, 2 sleeping, 4 producing (MPPT), 5 throttled.
    io.set('state', !enabled ? 1 : sun <= 0 ? 2 : limitPct < 100 ? 5 : 4);
  }
}
