// Physics of the simulated SunSpec PV inverter (points as in inverter-device.ts): the array offers
// power along the daylight curve, the output follows the smaller of that and the limit, ramping at
// the device's rate; the limit is 123 WMaxLimPct (% of 121 WMax) while WMaxLim_Ena = 1, and the
// device disables it by itself when WMaxLimPct_RvrtTms runs out without a new write.
import { clamp, ramp, type DeviceModel, type PointIO, type StepTime } from '../models/model.js';
import { cloudFactor, sunFactor } from '../models/inverter.js';
import { noise } from '../random.js';
import { INVERTER_MODULES, INVERTER_RATED_W } from './inverter-device.js';
import { rampStepW, type SunSpecModelDeps } from './model-deps.js';
import { RevertTimer } from '../revert-timer.js';

/**
 * Share of the rating the array offers at least, day or night. Not a weather model: the simulated
 * inverter must always have power to curtail, so that a limit shows at any simulated hour (issue
 * 10: a demo at simulated night read 0 kW before and after its limit). The daylight curve shapes
 * the rest.
 */
export const ARRAY_FLOOR = 0.5;
const DC_EFFICIENCY = 0.97;
const DC_VOLTAGE_V = 620;
const AMBIENT_C = 25;
const RISE_AT_RATED_C = 30;
/** Share of the DC power per MPPT input. */
const MODULE_SHARE = [0.52, 0.48] as const;
const UINT32 = 2 ** 32;

/** 103 St / 160 DCSt operating states. */
const ST = { MPPT: 4, THROTTLED: 5, STANDBY: 8 } as const;

const LIMIT = 'm123_WMaxLimPct';
const LIMIT_ENA = 'm123_WMaxLim_Ena';
const LIMIT_RVRT = 'm123_WMaxLimPct_RvrtTms';
/** A write of any of these restarts the revert timer (CONTRACT.md section 7: a refresh writes the control and its enable flag). */
const LIMIT_POINTS: ReadonlySet<string> = new Set([LIMIT, LIMIT_ENA, LIMIT_RVRT]);

/** Power the array offers, as a share of the rating, at `dayFraction` of the simulated day. */
export function availableFraction(dayFraction: number): number {
  return ARRAY_FLOOR + (1 - ARRAY_FLOOR) * sunFactor(dayFraction) * cloudFactor(dayFraction);
}

export class SunSpecInverterModel implements DeviceModel {
  private powerW: number | null = null;
  private revertDue = false;
  private readonly limitTimer: RevertTimer;

  constructor(private readonly deps: SunSpecModelDeps) {
    this.limitTimer = new RevertTimer(deps.timers, () => {
      this.revertDue = true;
      deps.wake();
    });
  }

  init(io: PointIO): void {
    io.set('m103_WH', 5_000_000 + Math.round(this.deps.random() * 1_000_000));
    for (let i = 1; i <= INVERTER_MODULES; i++) io.set(`m160_${i}_DCWH`, 2_500_000 + Math.round(this.deps.random() * 500_000));
  }

  /** Monotonic ms at which the limit reverts unless written again, or null. */
  get limitRevertsAtMs(): number | null {
    return this.limitTimer.deadlineMs;
  }

  written(io: PointIO, names: ReadonlySet<string>): void {
    if (![...names].some((n) => LIMIT_POINTS.has(n))) return;
    if (io.num(LIMIT_ENA) === 1) this.limitTimer.arm(io.num(LIMIT_RVRT));
    else this.limitTimer.cancel();
  }

  close(): void {
    this.limitTimer.cancel();
  }

  step(io: PointIO, t: StepTime): void {
    if (this.revertDue) {
      this.revertDue = false;
      io.set(LIMIT_ENA, 0);
      this.deps.logger.info({ point: LIMIT_ENA }, 'revert timer ran out: power limit disabled by the device');
    }
    const wMax = clamp(io.num('m121_WMax') ?? INVERTER_RATED_W, 0, INVERTER_RATED_W);
    const connected = io.num('m123_Conn') !== 0;
    const capW = io.num(LIMIT_ENA) === 1 ? (wMax * clamp(io.num(LIMIT) ?? 100, 0, 100)) / 100 : wMax;
    const availableW = INVERTER_RATED_W * availableFraction(t.dayFraction) * (1 + noise(this.deps.random, 0.002));
    const targetW = connected ? Math.min(availableW, capW) : 0;
    this.powerW = this.powerW === null ? targetW : ramp(this.powerW, targetW, rampStepW(this.deps, INVERTER_RATED_W, t.dtMs));
    const powerW = this.powerW;
    const state = !connected ? ST.STANDBY : capW < availableW ? ST.THROTTLED : ST.MPPT;

    io.set('m103_W', powerW);
    io.set('m103_VA', powerW);
    io.set('m103_VAr', 0);
    let amps = 0;
    (['A', 'B', 'C'] as const).forEach((phase) => {
      const volts = 230 + noise(this.deps.random, 1);
      const a = powerW / 3 / volts;
      amps += a;
      io.set(`m103_PhVph${phase}`, volts);
      io.set(`m103_Aph${phase}`, a);
    });
    io.set('m103_A', amps);
    for (const pair of ['AB', 'BC', 'CA']) io.set(`m103_PPVph${pair}`, 230 * Math.sqrt(3) + noise(this.deps.random, 1.5));
    io.set('m103_Hz', 50 + noise(this.deps.random, 0.01));

    const dcW = powerW / DC_EFFICIENCY;
    const dcV = DC_VOLTAGE_V + noise(this.deps.random, 2);
    io.set('m103_DCW', dcW);
    io.set('m103_DCV', dcV);
    io.set('m103_DCA', dcW / dcV);
    io.set('m103_WH', (io.num('m103_WH') ?? 0) + powerW * t.simDtH);
    const heatC = AMBIENT_C + (RISE_AT_RATED_C * powerW) / INVERTER_RATED_W;
    io.set('m103_TmpSnk', heatC);
    io.set('m103_TmpCab', AMBIENT_C + (heatC - AMBIENT_C) / 2);
    io.set('m103_St', state);

    const tms = Math.floor(t.nowMs / 1000) % UINT32;
    MODULE_SHARE.forEach((share, index) => {
      const m = `m160_${index + 1}_`;
      const w = dcW * share;
      const v = DC_VOLTAGE_V - 20 + 15 * index + noise(this.deps.random, 2);
      io.set(`${m}DCW`, w);
      io.set(`${m}DCV`, v);
      io.set(`${m}DCA`, w / v);
      io.set(`${m}DCWH`, (io.num(`${m}DCWH`) ?? 0) + w * t.simDtH);
      io.set(`${m}Tms`, tms);
      io.set(`${m}DCSt`, state);
    });
  }
}
