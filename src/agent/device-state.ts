import type { DeviceKind, PointValue } from '../config/types.js';

export type DeviceStatus = 'pending' | 'ok' | 'error' | 'standby';

/** One device as published in the readings snapshot (CONTRACT.md section 3). */
export interface DeviceReading {
  kind: DeviceKind;
  status: DeviceStatus;
  /** When `values` were read (ISO time), null before the first good poll. */
  readAt: string | null;
  /** The last good values; kept when a later poll fails. null: the device does not implement the point (SunSpec). */
  values: Record<string, PointValue | null>;
  error: string | null;
}

export interface ReadingsSnapshot {
  site: string;
  agentId: string;
  seq: number;
  publishedAt: string;
  leader: boolean;
  devices: Record<string, DeviceReading>;
}

export function pendingReading(kind: DeviceKind): DeviceReading {
  return { kind, status: 'pending', readAt: null, values: {}, error: null };
}
