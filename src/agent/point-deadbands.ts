// The deadband of every point a device publishes (CONTRACT.md section 10), for the readings
// publisher: the config's points, i.e. the profile's deadbands with the device's overrides merged in
// by name. Read from the config in force at each call, so a reload's devices apply at once; one map
// per device config object, built on first use.
//
// A SunSpec device's discovered points (its m-names and standard names) have none: the same
// measurements are published under both names, and a power band needs the device's rating (model 121
// WMax), known only at run time. Its config's own extra points keep theirs.
import type { DeviceConfig } from '../config/types.js';

const NONE: ReadonlyMap<string, number> = new Map();

export class PointDeadbands {
  private readonly byConfig = new WeakMap<DeviceConfig, ReadonlyMap<string, number>>();
  /** The devices list last seen, by id (a reload hands in a new list). */
  private index: { list: readonly DeviceConfig[]; byId: ReadonlyMap<string, DeviceConfig> } | null = null;

  constructor(private readonly devices: () => readonly DeviceConfig[]) {}

  /** Deadbands of `deviceId`'s points by name, engineering units; a point missing here has none. */
  of(deviceId: string): ReadonlyMap<string, number> {
    const list = this.devices();
    if (this.index?.list !== list) this.index = { list, byId: new Map(list.map((d) => [d.id, d])) };
    const device = this.index.byId.get(deviceId);
    if (device === undefined) return NONE;
    let bands = this.byConfig.get(device);
    if (bands === undefined) {
      bands = new Map(device.points.flatMap((p) => (p.deadband === undefined || p.deadband === 0 ? [] : [[p.name, p.deadband] as const])));
      this.byConfig.set(device, bands);
    }
    return bands;
  }
}
