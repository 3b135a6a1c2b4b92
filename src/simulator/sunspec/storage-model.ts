// Physics of the simulated SunSpec battery (points as in storage-device.ts). Sign: `powerW` > 0
// charges. Left alone, the battery follows the site's demand (two slow waves over the simulated
// day). 124 StorCtl_Mod bit 0 (CHARGE) caps charging at InWRte % of WChaMax, bit 1 (DiSCHARGE)
// caps discharging at OutWRte %; a negative rate forces the other direction (OutWRte = -50 with
// bit 1 charges at 50 % at least), as common storage inverters do. Reserves and the full pack stop
// it; the state of charge integrates the power over the simulated time. InOutWRte_RvrtTms clears
// StorCtl_Mod when it runs out without a new write. 802 W and A follow the generator convention
// of the inverter models: positive while the battery delivers (discharges).
import { clamp, ramp, type DeviceModel, type PointIO, type StepTime } from '../models/model.js';
import { noise } from '../random.js';
import { rampStepW, type SunSpecModelDeps } from './model-deps.js';
import { RevertTimer } from '../revert-timer.js';
import { STORAGE_CAPACITY_WH, STORAGE_CELLS, STORAGE_RATED_W } from './storage-device.js';

const MODE = 'm124_StorCtl_Mod';
const CHARGE_BIT = 1;
const DISCHARGE_BIT = 2;
/** A write of any of these restarts the revert timer. */
const RATE_POINTS: ReadonlySet<string> = new Set([MODE, 'm124_InWRte', 'm124_OutWRte', 'm124_InOutWRte_RvrtTms']);
/** Internal resistance per cell, ohm. */
const CELL_RESISTANCE_OHM = 0.0008;
const CELL_SPREAD_V = 0.01;
const INITIAL_SOC_PCT = 55;

/** 124 / 802 ChaSt. */
const CHA_ST = { OFF: 1, EMPTY: 2, DISCHARGING: 3, CHARGING: 4, FULL: 5, HOLDING: 6 } as const;
/** 802 State. */
const STATE = { DISCONNECTED: 1, CONNECTED: 3, STANDBY: 4 } as const;

/** LFP open-circuit cell voltage at state of charge `soc` (0..1): flat in the middle, steep at both ends. */
export function lfpCellV(soc: number): number {
  const s = clamp(soc, 0, 1);
  return 3.15 + 0.2 * s - 0.35 * Math.exp(-25 * s) + 0.25 * Math.exp(-25 * (1 - s));
}

/** What the site asks of the battery, W (+ charge): two slow waves over the simulated day. */
export function demandW(dayFraction: number): number {
  return 6000 * Math.sin(2 * Math.PI * dayFraction * 6) + 2000 * Math.sin(2 * Math.PI * dayFraction * 17 + 1);
}

export class SunSpecStorageModel implements DeviceModel {
  private powerW: number | null = null;
  private socPct = INITIAL_SOC_PCT;
  private revertDue = false;
  private readonly rateTimer: RevertTimer;

  constructor(private readonly deps: SunSpecModelDeps) {
    this.rateTimer = new RevertTimer(deps.timers, () => {
      this.revertDue = true;
      deps.wake();
    });
  }

  init(io: PointIO): void {
    this.socPct = io.num('m802_SoC') ?? INITIAL_SOC_PCT;
  }

  get rateRevertsAtMs(): number | null {
    return this.rateTimer.deadlineMs;
  }

  written(io: PointIO, names: ReadonlySet<string>): void {
    if (![...names].some((n) => RATE_POINTS.has(n))) return;
    if ((io.num(MODE) ?? 0) !== 0) this.rateTimer.arm(io.num('m124_InOutWRte_RvrtTms'));
    else this.rateTimer.cancel();
  }

  close(): void {
    this.rateTimer.cancel();
  }

  step(io: PointIO, t: StepTime): void {
    if (this.revertDue) {
      this.revertDue = false;
      io.set(MODE, 0);
      this.deps.logger.info({ point: MODE }, 'revert timer ran out: charge/discharge rates released by the device');
    }
    // A test may pin the state of charge: integrate from what is served.
    const socPct = io.num('m802_SoC') ?? this.socPct;
    const wChaMax = clamp(io.num('m124_WChaMax') ?? STORAGE_RATED_W, 0, STORAGE_RATED_W);
    const mode = io.num(MODE) ?? 0;
    const maxChargeW = mode & CHARGE_BIT ? (wChaMax * (io.num('m124_InWRte') ?? 100)) / 100 : wChaMax;
    const maxDischargeW = mode & DISCHARGE_BIT ? (wChaMax * (io.num('m124_OutWRte') ?? 100)) / 100 : wChaMax;
    let targetW = Math.min(Math.max(demandW(t.dayFraction) + noise(this.deps.random, 20), -maxDischargeW), maxChargeW);

    const reservePct = Math.max(io.num('m124_MinRsvPct') ?? 0, io.num('m802_SoCRsvMin') ?? 0);
    const topPct = Math.min(io.num('m802_SocRsvMax') ?? 100, io.num('m802_SoCMax') ?? 100);
    if ((targetW > 0 && socPct >= topPct) || (targetW < 0 && socPct <= reservePct)) targetW = 0;
    const connected = io.num('m802_SetOp') !== 2;
    const running = connected && (io.num('m802_SetInvState') ?? 3) === 3;
    if (!running) targetW = 0;

    const powerW = this.powerW === null ? targetW : ramp(this.powerW, targetW, rampStepW(this.deps, STORAGE_RATED_W, t.dtMs));
    this.powerW = powerW;
    this.socPct = clamp(socPct + (powerW * t.simDtH * 100) / STORAGE_CAPACITY_WH, 0, 100);
    const soc = this.socPct;

    const packOcvV = lfpCellV(soc / 100) * STORAGE_CELLS;
    const currentA = powerW / packOcvV; // + charge
    const cellV = lfpCellV(soc / 100) + currentA * CELL_RESISTANCE_OHM;
    const packV = cellV * STORAGE_CELLS;
    const chaSt = !running
      ? CHA_ST.OFF
      : soc >= 99.95
        ? CHA_ST.FULL
        : soc <= 0.05
          ? CHA_ST.EMPTY
          : powerW > 1
            ? CHA_ST.CHARGING
            : powerW < -1
              ? CHA_ST.DISCHARGING
              : CHA_ST.HOLDING;

    io.set('m124_ChaState', soc);
    io.set('m124_StorAval', Math.max(0, ((soc - reservePct) / 100) * (io.num('m802_AHRtg') ?? 0)));
    io.set('m124_InBatV', packV);
    io.set('m124_ChaSt', chaSt);

    io.set('m802_SoC', soc);
    io.set('m802_DoD', 100 - soc);
    io.set('m802_ChaSt', chaSt);
    io.set('m802_State', !connected ? STATE.DISCONNECTED : running ? STATE.CONNECTED : STATE.STANDBY);
    io.set('m802_Hb', Math.floor(t.nowMs / 1000) % 0x10000);
    io.set('m802_V', packV);
    io.set('m802_CellVAvg', cellV);
    io.set('m802_CellVMax', cellV + CELL_SPREAD_V);
    io.set('m802_CellVMin', cellV - CELL_SPREAD_V);
    // Generator convention: positive while discharging.
    io.set('m802_A', -currentA);
    io.set('m802_W', -powerW);
  }
}
