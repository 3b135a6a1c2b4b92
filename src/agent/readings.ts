import { systemClock, type Clock } from '../clock.js';
import type { PointValue } from '../config/types.js';
import { movedPastDeadband } from './deadband.js';
import type { DeviceReading } from './device-state.js';

/** When a snapshot is worth writing (CONTRACT.md section 10); read at every call, so a reload applies. */
export interface PublishPolicy {
  /** Deadbands of a device's points by name, engineering units; a point not in the map has none (any change). */
  deadbands(deviceId: string): ReadonlyMap<string, number>;
  /** publish.maxIntervalMs: a snapshot at least this often, changed or not (the "alive" write). */
  maxIntervalMs(): number;
  /** publish.intervalMs: how often the caller asks. */
  intervalMs(): number;
}

/** Today's behaviour, for callers without a policy: every change publishes, no alive write. */
const EVERY_CHANGE: PublishPolicy = {
  deadbands: () => new Map(),
  maxIntervalMs: () => Number.POSITIVE_INFINITY,
  intervalMs: () => 0,
};

/** What the last written snapshot held of one device. */
interface Published {
  /** The reading without `values` and `readAt`, as JSON: status, error, held setpoints' fields, ... */
  frame: string;
  values: Readonly<Record<string, PointValue | null>>;
}

/**
 * Renders readings snapshots (CONTRACT.md section 3) and decides when one is worth writing, at most
 * once per call (the caller's timer runs at `publish.intervalMs`). A snapshot is written when:
 *  - the leader flag changed, a device came or went, or anything of a device's reading other than its
 *    values and `readAt` changed (status, error, held setpoints' fields): those always publish;
 *  - a value moved past its deadband since the last WRITTEN snapshot (deadband.ts);
 *  - or `maxIntervalMs` passed since the last one (the alive write: a reader can tell a quiet agent
 *    from a dead one, and sees every value at most that old).
 * A new `readAt` alone is not a change: it says when values were read, and the alive write refreshes
 * it. `seq` counts the snapshots actually written.
 */
export class ReadingsPublisher {
  private seq = 0;
  private readonly head: string;
  private lastLeader: boolean | null = null;
  private lastWrittenMonoMs = Number.NEGATIVE_INFINITY;
  private published = new Map<string, Published>();

  constructor(
    site: string,
    agentId: string,
    private readonly policy: PublishPolicy = EVERY_CHANGE,
    /** Monotonic time for the alive write; wall time stamps publishedAt (the agent's: ZooKeeper-corrected). */
    private readonly clock: Pick<Clock, 'monotonicMs' | 'nowMs'> = systemClock,
  ) {
    this.head = `{"site":${JSON.stringify(site)},"agentId":${JSON.stringify(agentId)}`;
  }

  /** Snapshots written so far. */
  get written(): number {
    return this.seq;
  }

  /** The next call writes a snapshot whatever changed (the readAt stamps were corrected: Agent). */
  rewrite(): void {
    this.lastWrittenMonoMs = Number.NEGATIVE_INFINITY;
  }

  /** The JSON text of the next snapshot to write, or null when it is not worth writing yet. */
  next(leader: boolean, devices: Record<string, DeviceReading>): string | null {
    const nowMs = this.clock.monotonicMs();
    const frames = new Map(Object.entries(devices).map(([id, r]) => [id, frameOf(r)]));
    if (!this.aliveDue(nowMs) && !this.changed(leader, devices, frames)) return null;
    this.lastLeader = leader;
    this.lastWrittenMonoMs = nowMs;
    this.published = new Map([...frames].map(([id, frame]) => [id, { frame, values: devices[id]?.values ?? {} }]));
    this.seq += 1;
    return `${this.head},"seq":${this.seq},"publishedAt":"${new Date(this.clock.nowMs()).toISOString()}","leader":${leader},"devices":${JSON.stringify(devices)}}`;
  }

  /**
   * The reading of one device differs from what the last written snapshot holds of it (as next()
   * would judge it: its frame, or a value past its deadband); a device not in it differs.
   */
  deviceChanged(id: string, reading: DeviceReading): boolean {
    const last = this.published.get(id);
    return last === undefined || last.frame !== frameOf(reading) || this.valuesMoved(id, last.values, reading.values);
  }

  /**
   * The alive write is due. Half an interval of slack: the caller's timer fires about every
   * `intervalMs`, and a tick a millisecond early must not push the write a whole interval late.
   */
  private aliveDue(nowMs: number): boolean {
    return nowMs - this.lastWrittenMonoMs >= this.policy.maxIntervalMs() - this.policy.intervalMs() / 2;
  }

  private changed(leader: boolean, devices: Record<string, DeviceReading>, frames: ReadonlyMap<string, string>): boolean {
    if (leader !== this.lastLeader || frames.size !== this.published.size) return true;
    for (const [id, frame] of frames) {
      const last = this.published.get(id);
      const reading = devices[id];
      if (last === undefined || reading === undefined || last.frame !== frame) return true;
      if (this.valuesMoved(id, last.values, reading.values)) return true;
    }
    return false;
  }

  private valuesMoved(deviceId: string, last: Readonly<Record<string, PointValue | null>>, now: Readonly<Record<string, PointValue | null>>): boolean {
    if (last === now) return false; // the same poll's values (a device in error keeps its last good ones)
    const bands = this.policy.deadbands(deviceId);
    let count = 0;
    for (const [name, value] of Object.entries(now)) {
      count++;
      const before = Object.hasOwn(last, name) ? last[name] : undefined;
      if (movedPastDeadband(before, value, bands.get(name) ?? 0)) return true;
    }
    return count !== Object.keys(last).length; // a point that went away
  }
}

/** A reading without its values and read time, as JSON: what must publish on any change. */
function frameOf(reading: DeviceReading): string {
  const { values: _values, readAt: _readAt, ...frame } = reading;
  return JSON.stringify(frame);
}
