// The unit of every point a device publishes, for the site page and the per-point metrics. A
// register-map device's points are in its config (profile merged with the device's overrides); a
// SunSpec device's are known only once it has been discovered: its models' points carry the units
// of the SunSpec definitions (`W`, `Pct`, `C`, ...), its standard names the generic profiles' units,
// its controls `%`, and the config's own extra points theirs. A point without a unit maps to ''.
import type { DeviceConfig } from '../config/types.js';
import type { Driver } from '../drivers/driver.js';
import { CONTROL_RANGE, SUNSPEC_CONTROLS } from '../drivers/sunspec/controls.js';
import type { DeviceLayout } from '../drivers/sunspec/device-layout.js';
import { STANDARD_NAMES } from '../drivers/sunspec/standard-names.js';
import { SunSpecDriver } from '../drivers/sunspec/sunspec-driver.js';

type Units = ReadonlyMap<string, string>;

const NO_UNITS: Units = new Map();

export class PointUnits {
  private readonly configured = new Map<string, Units>();
  /** SunSpec devices: the units of the layout they were computed from (recomputed when discovery finds another). */
  private readonly discovered = new Map<string, { layout: DeviceLayout; units: Units }>();

  constructor(
    devices: readonly DeviceConfig[],
    private readonly drivers: ReadonlyMap<string, Driver>,
  ) {
    this.update(devices);
  }

  /** The devices of the config in force (at start, and after a reload). */
  update(devices: readonly DeviceConfig[]): void {
    this.configured.clear();
    this.discovered.clear();
    for (const d of devices) this.configured.set(d.id, new Map(d.points.map((p) => [p.name, p.unit ?? ''])));
  }

  /** Units of `deviceId`'s points by name; a name missing here has no unit. */
  of(deviceId: string): Units {
    const configured = this.configured.get(deviceId) ?? NO_UNITS;
    const driver = this.drivers.get(deviceId);
    const layout = driver instanceof SunSpecDriver ? driver.discovered : null;
    if (layout === null) return configured;
    const cached = this.discovered.get(deviceId);
    if (cached?.layout === layout) return cached.units;
    const units = sunspecUnits(layout, configured);
    this.discovered.set(deviceId, { layout, units });
    return units;
  }
}

function sunspecUnits(layout: DeviceLayout, configured: Units): Units {
  const units = new Map<string, string>();
  for (const model of layout.models) for (const p of model.points) units.set(p.name, p.def.units ?? '');
  for (const s of STANDARD_NAMES) units.set(s.name, s.unit ?? '');
  for (const c of SUNSPEC_CONTROLS) units.set(c, CONTROL_RANGE.unit);
  for (const [name, unit] of configured) units.set(name, unit); // the config's own points replace published names
  return units;
}
