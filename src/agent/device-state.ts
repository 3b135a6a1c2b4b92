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
  /**
   * The lock holder's refresh of the device's fallback timer (CONTRACT.md section 7): when it last
   * restarted it and when the device falls back if nobody does again. Absent while nothing is held.
   */
  fallback?: DeviceFallback;
}

/** A device's fallback timer as the lock holder publishes it (CONTRACT.md section 7; setpoint-keeper.ts). */
export interface DeviceFallback {
  /** The device's window, ms. */
  windowMs: number;
  /** When the holder last restarted the device's timer (ZooKeeper's clock, ISO 8601). */
  refreshedAt: string;
  /** When the device falls back if nobody refreshes it again: refreshedAt + windowMs. */
  revertsBy: string;
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
