import type { DeviceReading, ReadingsSnapshot } from './device-state.js';

/**
 * Builds readings snapshots and decides when one is worth writing: at most one write per
 * `publish.intervalMs` (the caller's timer), and none when neither a device nor the leader flag
 * changed since the last write. `seq` counts the snapshots actually written.
 */
export class ReadingsPublisher {
  private seq = 0;
  private lastBody: string | null = null;

  constructor(
    private readonly site: string,
    private readonly agentId: string,
  ) {}

  /** The next snapshot to write, or null when nothing changed since the last one. */
  next(leader: boolean, devices: Record<string, DeviceReading>): ReadingsSnapshot | null {
    const body = JSON.stringify([leader, devices]);
    if (body === this.lastBody) return null;
    this.lastBody = body;
    this.seq += 1;
    return { site: this.site, agentId: this.agentId, seq: this.seq, publishedAt: new Date().toISOString(), leader, devices };
  }

  /** Forget the last body: the next call writes (e.g. after the node was re-created). */
  invalidate(): void {
    this.lastBody = null;
  }
}
