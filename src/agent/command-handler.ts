import type { DeviceConfig, PointConfig, PointValue, SiteConfig } from '../config/types.js';

/** A parsed command document (CONTRACT.md section 3), as coordination hands it over. */
export interface CommandRequest {
  device: string;
  point: string;
  value: unknown;
}

/** What the handler needs of a device driver (src/drivers/device-driver.ts). */
export interface WriteTarget {
  write(point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: PointValue | null }>;
}

/**
 * Checks commands against the config and applies them through the device drivers. `check` never
 * touches a device; `apply` is called by coordination only through the actuation gate, and passes
 * the gate's `guard` down so the driver asks it again right before the bytes go out.
 */
export class DeviceCommandHandler {
  private readonly devices: Map<string, DeviceConfig>;

  constructor(
    config: SiteConfig,
    private readonly targets: ReadonlyMap<string, WriteTarget>,
  ) {
    this.devices = new Map(config.devices.map((d) => [d.id, d]));
  }

  /** null when the command may be applied; otherwise why it is rejected. */
  check(cmd: CommandRequest): string | null {
    if (typeof cmd.device !== 'string') return 'device: must be a string';
    if (typeof cmd.point !== 'string') return 'point: must be a string';
    const device = this.devices.get(cmd.device);
    if (!device) return `device: unknown device '${cmd.device}'`;
    const point = device.points.find((p) => p.name === cmd.point);
    if (!point) return `point: device '${device.id}' has no point '${cmd.point}'`;
    if (point.access === 'read') return `point: ${device.id}.${point.name} is read-only`;
    return checkValue(device, point, cmd.value);
  }

  async apply(cmd: CommandRequest, guard: () => boolean): Promise<{ readBack: PointValue | null }> {
    const reason = this.check(cmd);
    if (reason !== null) throw new Error(reason); // coordination checks first; this is a second line
    const target = this.targets.get(cmd.device);
    if (!target) throw new Error(`device '${cmd.device}' has no driver`);
    return target.write(cmd.point, normalise(cmd.value), guard);
  }
}

function normalise(value: unknown): PointValue {
  return value as PointValue; // checkValue has established the type
}

function checkValue(device: DeviceConfig, point: PointConfig, value: unknown): string | null {
  const where = `value: ${device.id}.${point.name}`;
  if (point.type === 'bool') {
    if (typeof value === 'boolean' || value === 0 || value === 1) return null;
    return `${where} is a bool: expected true or false, got ${JSON.stringify(value)}`;
  }
  if (point.type === 'string') {
    if (typeof value !== 'string') return `${where} is a string: expected a string, got ${JSON.stringify(value)}`;
    const maxChars = (point.length ?? 0) * 2;
    if (Buffer.byteLength(value) > maxChars) return `${where} holds at most ${maxChars} bytes, got ${Buffer.byteLength(value)}`;
    return null;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return `${where} is numeric (${point.type}): expected a number, got ${JSON.stringify(value)}`;
  }
  if (point.min !== undefined && value < point.min) return `${where}: ${value} is below min ${point.min}`;
  if (point.max !== undefined && value > point.max) return `${where}: ${value} is above max ${point.max}`;
  return null;
}
