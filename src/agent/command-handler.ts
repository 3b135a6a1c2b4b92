import type { DeviceConfig, PointConfig, PointValue, SiteConfig } from '../config/types.js';
import type { ControlDescription, ReadValue } from '../drivers/driver.js';
import { keptRegisters, type HoldPlan } from './hold-plan.js';

/** A parsed command document (CONTRACT.md section 3), as coordination hands it over. */
export interface CommandRequest {
  device: string;
  point: string;
  /** null: release the point's held setpoint (CONTRACT.md section 7). */
  value: unknown;
}

/** Writes of held points (hold-writer.ts): absent, every command is a one-shot write. */
export interface HeldPoints {
  plan(device: string, point: string): HoldPlan | undefined;
  write(device: string, point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: ReadValue }>;
  release(device: string, point: string, guard: () => boolean): Promise<{ readBack: ReadValue }>;
}

/** What the handler needs of a device driver (src/drivers/driver.ts). */
export interface WriteTarget {
  write(point: string, value: PointValue, guard: () => boolean): Promise<{ readBack: PointValue | null }>;
  /** Points beyond the config that the driver knows (SunSpec controls, from the models discovered). */
  describeControl?(point: string): ControlDescription | undefined;
}

/**
 * Checks commands against the config (and, for a point the config does not list, against what the
 * driver discovered: a SunSpec device's controls) and applies them through the device drivers.
 * `check` never touches a device; `apply` is called by coordination only through the actuation
 * gate, and passes the gate's `guard` down so the driver asks it again right before the bytes go out.
 */
export class DeviceCommandHandler {
  private readonly devices: Map<string, DeviceConfig>;
  /** Per device: the registers the holder keeps written itself (no commands), with what they serve. */
  private readonly kept: Map<string, Map<string, string>>;

  constructor(
    config: SiteConfig,
    private readonly targets: ReadonlyMap<string, WriteTarget>,
    private readonly held?: HeldPoints,
  ) {
    this.devices = new Map(config.devices.map((d) => [d.id, d]));
    this.kept = new Map(config.devices.map((d) => [d.id, keptRegisters(d)]));
  }

  /** null when the command may be applied; otherwise why it is rejected. */
  check(cmd: CommandRequest): string | null {
    const parsed = this.parse(cmd);
    return parsed.ok ? null : parsed.reason;
  }

  /** A held point's value goes with its revert timer, a null value writes its fallback (CONTRACT.md section 7). */
  async apply(cmd: CommandRequest, guard: () => boolean): Promise<{ readBack: PointValue | null }> {
    const parsed = this.parse(cmd);
    if (!parsed.ok) throw new Error(parsed.reason); // coordination checks first; this is a second line
    if (parsed.value === null) {
      if (this.held === undefined) throw new Error(`${cmd.device}.${cmd.point}: no held setpoints here`);
      return this.held.release(cmd.device, cmd.point, guard);
    }
    if (this.held?.plan(cmd.device, cmd.point) !== undefined) return this.held.write(cmd.device, cmd.point, parsed.value, guard);
    const target = this.targets.get(cmd.device);
    if (!target) throw new Error(`device '${cmd.device}' has no driver`);
    return target.write(cmd.point, parsed.value, guard);
  }

  /** An applied command on this point becomes its held setpoint: the point has a fallback. */
  holds(cmd: { device: string; point: string }): boolean {
    return this.held?.plan(cmd.device, cmd.point) !== undefined;
  }

  private parse(cmd: CommandRequest): Parsed {
    if (typeof cmd.device !== 'string') return { ok: false, reason: 'device: must be a string' };
    if (typeof cmd.point !== 'string') return { ok: false, reason: 'point: must be a string' };
    const device = this.devices.get(cmd.device);
    if (!device) return { ok: false, reason: `device: unknown device '${cmd.device}'` };
    const kept = this.kept.get(device.id)?.get(cmd.point);
    if (kept !== undefined) return { ok: false, reason: `point: ${device.id}.${cmd.point} is ${kept}: the lock holder keeps it written itself` };
    if (cmd.value === null) {
      if (this.held?.plan(device.id, cmd.point) !== undefined) return { ok: true, value: null };
      const known = device.points.some((p) => p.name === cmd.point) || this.targets.get(device.id)?.describeControl?.(cmd.point)?.ok === true;
      return {
        ok: false,
        reason: known
          ? `value: null releases a held setpoint, and ${device.id}.${cmd.point} has no fallback: it is never held`
          : `point: device '${device.id}' has no point '${cmd.point}'`,
      };
    }
    let point = device.points.find((p) => p.name === cmd.point);
    if (!point) {
      const control = this.targets.get(device.id)?.describeControl?.(cmd.point);
      if (control === undefined) return { ok: false, reason: `point: device '${device.id}' has no point '${cmd.point}'` };
      if (!control.ok) return control;
      point = control.point;
    }
    if (point.access === 'read') return { ok: false, reason: `point: ${device.id}.${point.name} is read-only` };
    return parseValue(device, point, cmd.value);
  }
}

/** value null: a release. */
type Parsed = { ok: true; value: PointValue | null } | { ok: false; reason: string };

/** The commanded value as the point's type, or why it does not fit (type, length, min..max). */
function parseValue(device: DeviceConfig, point: PointConfig, value: unknown): Parsed {
  const where = `value: ${device.id}.${point.name}`;
  const got = JSON.stringify(value);
  if (point.type === 'bool') {
    if (typeof value === 'boolean') return { ok: true, value };
    if (value === 0 || value === 1) return { ok: true, value: value === 1 };
    return { ok: false, reason: `${where} is a bool: expected true or false, got ${got}` };
  }
  if (point.type === 'string') {
    if (typeof value !== 'string') return { ok: false, reason: `${where} is a string: expected a string, got ${got}` };
    const maxBytes = (point.length ?? 0) * 2;
    const bytes = Buffer.byteLength(value);
    if (bytes > maxBytes) return { ok: false, reason: `${where} holds at most ${maxBytes} bytes, got ${bytes}` };
    return { ok: true, value };
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return { ok: false, reason: `${where} is numeric (${point.type}): expected a number, got ${got}` };
  }
  if (point.min !== undefined && value < point.min) return { ok: false, reason: `${where}: ${value} is below min ${point.min}` };
  if (point.max !== undefined && value > point.max) return { ok: false, reason: `${where}: ${value} is above max ${point.max}` };
  return { ok: true, value };
}
