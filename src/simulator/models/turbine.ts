// A pitch-regulated wind turbine: wind from a sum of sines plus noise, power from the power curve
// (cut-in 3 m/s, rated at 12 m/s, cut-out 25 m/s) capped by the curtailment setpoint, 0 when stopped.
// Point names are those of profiles/generic-turbine.yaml.
import { noise, type Random } from '../random.js';
import { clamp, lag, type DeviceModel, type PointIO, type StepTime } from './model.js';

const CUT_IN_MS = 3;
const RATED_WIND_MS = 12;
const CUT_OUT_MS = 25;
/** Rated power when the config does not say (the curtailment setpoint's `max` does, in kW). */
const DEFAULT_RATED_KW = 3000;
/** Auxiliary consumption while running below cut-in: the profile's activePower may go negative. */
const IDLE_CONSUMPTION_W = 1500;
const ROTOR_TAU_MS = 3_000;
const PITCH_TAU_MS = 2_000;

/** Wind at the nacelle, m/s, at wall time `nowMs`: gusts of 97 s, 31 s and 11 s periods, about 3..15 m/s. */
export function windTrace(nowMs: number): number {
  const s = nowMs / 1000;
  return 9 + 3.5 * Math.sin((2 * Math.PI * s) / 97) + 1.8 * Math.sin((2 * Math.PI * s) / 31 + 1) + 0.7 * Math.sin((2 * Math.PI * s) / 11 + 2);
}

/** Power the wind allows, W (cubic between cut-in and rated wind, flat to cut-out, 0 beyond). */
export function powerCurveW(windMs: number, ratedW: number): number {
  if (windMs < CUT_IN_MS || windMs >= CUT_OUT_MS) return 0;
  if (windMs >= RATED_WIND_MS) return ratedW;
  return (ratedW * (windMs ** 3 - CUT_IN_MS ** 3)) / (RATED_WIND_MS ** 3 - CUT_IN_MS ** 3);
}

export class TurbineModel implements DeviceModel {
  constructor(private readonly random: Random) {}

  private ratedKw(io: PointIO): number {
    return io.point('curtailmentSetpoint')?.max ?? DEFAULT_RATED_KW;
  }

  init(io: PointIO): void {
    io.set('running', true);
    io.set('curtailmentSetpoint', this.ratedKw(io));
    io.set('yawAngle', Math.round(this.random() * 3600) / 10);
    io.set('energyTotal', 4_000_000_000 + Math.round(this.random() * 1_000_000_000));
  }

  step(io: PointIO, t: StepTime): void {
    const ratedW = this.ratedKw(io) * 1000;
    const wind = clamp(windTrace(t.nowMs) + noise(this.random, 0.3), 0, 40);
    io.set('windSpeed', wind);
    const running = io.bool('running') ?? true;
    const setpointW = clamp(io.num('curtailmentSetpoint') ?? ratedW / 1000, 0, ratedW / 1000) * 1000;

    let powerW: number;
    let targetRpm: number;
    let targetPitch: number;
    let state: number; // profile enum: 0 stopped, 2 running, 3 curtailed, 4 storm stop
    if (!running) {
      [powerW, targetRpm, targetPitch, state] = [0, 0, 90, 0];
    } else if (wind >= CUT_OUT_MS) {
      [powerW, targetRpm, targetPitch, state] = [0, 0, 90, 4];
    } else if (wind < CUT_IN_MS) {
      [powerW, targetRpm, targetPitch, state] = [-IDLE_CONSUMPTION_W, 2, 0, 2];
    } else {
      const curveW = powerCurveW(wind, ratedW);
      powerW = Math.min(curveW, setpointW);
      const curtailed = setpointW < curveW;
      targetRpm = 6 + 10 * Math.min(1, (wind - CUT_IN_MS) / (RATED_WIND_MS - CUT_IN_MS));
      // Pitching out sheds the wind's surplus: above rated wind, and more while curtailed.
      const aboveRated = Math.max(0, wind - RATED_WIND_MS) * 2.2;
      const shed = curveW > 0 ? 25 * (1 - powerW / curveW) : 0;
      targetPitch = clamp(aboveRated + shed, 0, 90);
      if (curtailed) targetRpm *= 0.5 + 0.5 * (powerW / curveW);
      state = curtailed ? 3 : 2;
    }
    io.set('activePower', Math.round(powerW));
    io.set('rotorSpeed', lag(io.num('rotorSpeed') ?? targetRpm, targetRpm, t.dtMs, ROTOR_TAU_MS));
    io.set('pitchAngle', lag(io.num('pitchAngle') ?? targetPitch, targetPitch, t.dtMs, PITCH_TAU_MS));
    if (t.dtMs > 0) {
      // Drifts a little each step; kept below 359.95 so that 0.1° steps never round to 360.0.
      const yaw = ((((io.num('yawAngle') ?? 0) + noise(this.random, 0.2)) % 360) + 360) % 360;
      io.set('yawAngle', yaw >= 359.95 ? 0 : yaw);
    }
    io.set('energyTotal', (io.num('energyTotal') ?? 0) + Math.max(0, powerW) * t.simDtH);
    io.set('state', state);
    io.set('alarm', state === 4); // a storm stop is the alarm this model knows; tests pin others
  }
}
