// The controls a SunSpec device offers under standard names (CONTRACT.md section 6), and which of
// its models' points each one is. A control is a setpoint in percent and a switch that puts it in
// force: writing it is the model's recipe (control-write.ts), reading it gives the setpoint while
// the switch is on and 100 (no limit) while it is off. Where a device has a 7xx DER model and a
// 12x model for the same control, the 7xx one is used, for reading and for writing.
import type { SunSpecValue } from './decode.js';
import type { ModelLayout, PointInstance } from './layout.js';
import { mName } from './standard-names.js';

export const SUNSPEC_CONTROLS = ['activePowerLimit', 'chargeRate', 'dischargeRate'] as const;
export type ControlName = (typeof SUNSPEC_CONTROLS)[number];

/** What a control reads while it is not in force: 100 %, nothing limited. */
export const CONTROL_OFF_VALUE = 100;
/** Every control is a percentage. */
export const CONTROL_RANGE = { min: 0, max: 100, unit: '%' } as const;

interface RecipeDef {
  readonly model: number;
  /** The setpoint, % (scaled by its own scale factor). */
  readonly value: string;
  /** The switch: set to 1, or (a bitfield) the bit set. */
  readonly enable: string;
  readonly enableBit?: number;
  /** The device's own revert timer, s: programmed with every write of a held setpoint (section 7). */
  readonly revertTimer: string;
  /** Where the timer takes the setpoint (704), programmed to CONTROL_OFF_VALUE; absent: the device disables the control. */
  readonly revertValue?: string;
}

/** In order of preference. */
const RECIPES: Readonly<Record<ControlName, readonly RecipeDef[]>> = {
  // 704 WMaxLimPct: % of WMaxRtg; 123 WMaxLimPct: % of 121 WMax.
  activePowerLimit: [
    { model: 704, value: 'WMaxLimPct', enable: 'WMaxLimPctEna', revertTimer: 'WMaxLimPctRvrtTms', revertValue: 'WMaxLimPctRvrt' },
    { model: 123, value: 'WMaxLimPct', enable: 'WMaxLim_Ena', revertTimer: 'WMaxLimPct_RvrtTms' },
  ],
  // 124 StorCtl_Mod: bit 0 CHARGE puts InWRte (% of WChaMax) in force, bit 1 DISCHARGE OutWRte.
  chargeRate: [{ model: 124, value: 'InWRte', enable: 'StorCtl_Mod', enableBit: 0, revertTimer: 'InOutWRte_RvrtTms' }],
  dischargeRate: [{ model: 124, value: 'OutWRte', enable: 'StorCtl_Mod', enableBit: 1, revertTimer: 'InOutWRte_RvrtTms' }],
};

/** A control as one device has it: the points of the model that carries it. */
export interface Recipe {
  readonly control: ControlName;
  readonly model: number;
  readonly value: PointInstance;
  readonly enable: PointInstance;
  /** Undefined: the switch is on at 1. A number: the switch is that bit of the register. */
  readonly enableBit: number | undefined;
  readonly revertTimer: PointInstance | undefined;
  readonly revertValue: PointInstance | undefined;
}

export function isControl(name: string): name is ControlName {
  return (SUNSPEC_CONTROLS as readonly string[]).includes(name);
}

/** The models that can carry `control`, in order of preference. */
export function controlModels(control: ControlName): number[] {
  return RECIPES[control].map((r) => r.model);
}

/** The recipe of `control` on a device with these models, or undefined when none of them carries it. */
export function findRecipe(control: ControlName, models: readonly ModelLayout[]): Recipe | undefined {
  for (const def of RECIPES[control]) {
    const layout = models.find((m) => m.def.id === def.model);
    if (layout === undefined) continue;
    const point = (name: string): PointInstance | undefined => layout.points.find((p) => p.name === mName(def.model, name));
    const value = point(def.value);
    const enable = point(def.enable);
    if (value === undefined || enable === undefined) continue;
    const revertValue = def.revertValue === undefined ? undefined : point(def.revertValue);
    return { control, model: def.model, value, enable, enableBit: def.enableBit, revertTimer: point(def.revertTimer), revertValue };
  }
  return undefined;
}

/** Whether the switch's register says the control is in force; null when the device does not implement it. */
export function isEnabled(recipe: Recipe, enableValue: SunSpecValue): boolean | null {
  if (typeof enableValue !== 'number') return null;
  return recipe.enableBit === undefined ? enableValue === 1 : (enableValue & (1 << recipe.enableBit)) !== 0;
}

/** The readings of the device's controls from its decoded m-values (controls whose points were not read are left out). */
export function controlReadings(values: Readonly<Record<string, SunSpecValue>>, models: readonly ModelLayout[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const control of SUNSPEC_CONTROLS) {
    const recipe = findRecipe(control, models);
    if (recipe === undefined) continue;
    const value = values[recipe.value.name];
    const enable = values[recipe.enable.name];
    if (value === undefined || enable === undefined) continue;
    const enabled = isEnabled(recipe, enable);
    out[control] = enabled === null ? null : enabled ? (typeof value === 'number' ? value : null) : CONTROL_OFF_VALUE;
  }
  return out;
}
