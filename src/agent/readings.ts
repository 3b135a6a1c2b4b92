import type { DeviceReading } from './device-state.js';

/**
 * Renders readings snapshots (CONTRACT.md section 3) and decides when one is worth writing: at most
 * one write per `publish.intervalMs` (the caller's timer), and none when neither a device nor the
 * leader flag changed since the last write. `seq` counts the snapshots actually written. The devices
 * are serialised once per call: the same text is compared and embedded.
 */
export class ReadingsPublisher {
  private seq = 0;
  private lastKey: string | null = null;
  private readonly head: string;

  constructor(site: string, agentId: string) {
    this.head = `{"site":${JSON.stringify(site)},"agentId":${JSON.stringify(agentId)}`;
  }

  /** The JSON text of the next snapshot to write, or null when nothing changed since the last one. */
  next(leader: boolean, devices: Record<string, DeviceReading>): string | null {
    const devicesJson = JSON.stringify(devices);
    const key = `${leader ? 1 : 0}${devicesJson}`;
    if (key === this.lastKey) return null;
    this.lastKey = key;
    this.seq += 1;
    return `${this.head},"seq":${this.seq},"publishedAt":"${new Date().toISOString()}","leader":${leader},"devices":${devicesJson}}`;
  }
}
