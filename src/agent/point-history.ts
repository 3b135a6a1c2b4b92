// The recent past of every numeric point, kept in memory for the site page's charts. A device gets
// at most one sample per `sampleMs` (5 s), taken from its current reading when a good poll came in
// since its last sample: a device in error or standby adds nothing (its chart shows a gap), and one
// polled every 10 s adds a sample per 10 s. Each device has a ring of `samples` (180) rows, so at
// the default 5 s it holds 15 minutes; older rows are overwritten, nothing grows.
//
// Memory, at the default 180 samples: per numeric point a Float32Array(180) of values = 720 bytes;
// per device a Float64Array(180) of sample times (ms since the epoch) = 1440 bytes, shared by its
// points. So 500 devices of 17 numeric points hold about 6.8 MB. float32 keeps about 7 significant
// digits, more than a 140-pixel chart can show (the table shows the exact value from the reading);
// the times need float64 (ms since 1970 have 13 digits).
import os from 'node:os';
import type { Clock } from '../clock.js';
import type { DeviceReading } from './device-state.js';

export const HISTORY_SAMPLE_MS = 5000;
export const HISTORY_SAMPLES = 180;
/** Bytes one numeric point costs (its values), and one device (its sample times). */
export const HISTORY_BYTES_PER_POINT = HISTORY_SAMPLES * Float32Array.BYTES_PER_ELEMENT;
export const HISTORY_BYTES_PER_DEVICE = HISTORY_SAMPLES * Float64Array.BYTES_PER_ELEMENT;
/**
 * One device's samples, oldest first, as they sit in memory: `n` samples of the numeric `points`;
 * `data` is base64 of n little-endian float64 sample times (ms since the epoch), then for each of
 * `points` in order n little-endian float32 values (NaN: no number at that sample). Binary, one
 * string per device, because it is big: 500 devices of 17 points are about 9 MB this way, copied and
 * encoded natively in milliseconds, against 13 MB and over a second for decimal JSON, which would
 * hold up the polls that share the event loop.
 */
export interface DeviceHistoryJson {
  n: number;
  points: string[];
  data: string;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Copies the `n` ring entries from `start` (wrapping at the end) into `out`. */
function copyRing(ring: Float32Array | Float64Array, start: number, n: number, out: Float32Array | Float64Array): void {
  const first = Math.min(n, ring.length - start);
  out.set(ring.subarray(start, start + first));
  if (first < n) out.set(ring.subarray(0, n - first), first);
}

/** The ring of one device: sample times and, per numeric point, its values at those times (NaN: none). */
class DeviceHistory {
  private readonly times: Float64Array;
  private readonly values = new Map<string, Float32Array>();
  /** Index the next sample goes to. */
  private next = 0;
  private count = 0;
  /** readAt of the reading last sampled: the same reading is never sampled twice. */
  private lastReadAt: string | null = null;

  constructor(private readonly size: number) {
    this.times = new Float64Array(size);
  }

  add(reading: DeviceReading): void {
    if (reading.status !== 'ok' || reading.readAt === null || reading.readAt === this.lastReadAt) return;
    const atMs = Date.parse(reading.readAt);
    if (!Number.isFinite(atMs)) return;
    this.lastReadAt = reading.readAt;
    // Earlier than the newest sample: the agent's clock was corrected backwards (ZooKeeper's clock
    // became known, and the local one had been ahead). Samples on both sides of the jump would draw
    // nonsense, and those before it are stamped in the future: start over.
    if (this.count > 0 && atMs < (this.times[(this.next - 1 + this.size) % this.size] ?? 0)) this.count = 0;
    const i = this.next;
    this.times[i] = atMs;
    for (const ring of this.values.values()) ring[i] = NaN;
    for (const [point, value] of Object.entries(reading.values)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      let ring = this.values.get(point);
      if (ring === undefined) {
        // A point first seen now (a SunSpec device discovered late): no value at the earlier samples.
        ring = new Float32Array(this.size).fill(NaN);
        this.values.set(point, ring);
      }
      ring[i] = value;
    }
    this.next = (i + 1) % this.size;
    this.count = Math.min(this.count + 1, this.size);
  }

  /** The newest samples taken at or after `sinceMs`, oldest first. */
  toJson(sinceMs: number): DeviceHistoryJson {
    let n = 0;
    while (n < this.count && (this.times[(this.next - n - 1 + this.size) % this.size] ?? 0) >= sinceMs) n++;
    const start = (this.next - n + this.size) % this.size;
    const points = [...this.values.keys()];
    // A buffer of its own (offset 0), so the float64 and float32 views on it are aligned.
    const bytes = Buffer.alloc(n * 8 + points.length * n * 4);
    copyRing(this.times, start, n, new Float64Array(bytes.buffer, bytes.byteOffset, n));
    points.forEach((point, j) => {
      const ring = this.values.get(point);
      if (ring !== undefined) copyRing(ring, start, n, new Float32Array(bytes.buffer, bytes.byteOffset + n * 8 + j * n * 4, n));
    });
    if (!LITTLE_ENDIAN) {
      bytes.subarray(0, n * 8).swap64();
      bytes.subarray(n * 8).swap32();
    }
    return { n, points, data: bytes.toString('base64') };
  }
}

/**
 * Samples every device's reading every `sampleMs` into its ring (a timer of its own, unref'd: it
 * never keeps the process alive). `start()` / `close()`.
 */
export class ReadingsHistory {
  private readonly devices = new Map<string, DeviceHistory>();
  readonly sampleMs: number;
  private readonly samples: number;
  private timer: NodeJS.Timeout | null = null;
  /** toJsonChunks() of the current samples: the same for every page that opens until the next sample. */
  private chunks: string[] | null = null;

  constructor(
    private readonly deps: { readings: () => Record<string, DeviceReading>; clock: Clock },
    opts: { sampleMs?: number; samples?: number } = {},
  ) {
    this.sampleMs = opts.sampleMs ?? HISTORY_SAMPLE_MS;
    this.samples = opts.samples ?? HISTORY_SAMPLES;
  }

  /** How far back the rings reach at one sample per `sampleMs`, ms (15 minutes by default). */
  get windowMs(): number {
    return this.sampleMs * this.samples;
  }

  start(): void {
    if (this.timer !== null) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.sampleMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * toJson() as JSON text in pieces (one per device) that, written one after the other, make one
   * JSON object. Made once per sample and shared by every page that opens meanwhile: at 500 devices
   * it is 9 MB, which is never joined into one string (a copy of that size, and the garbage it
   * leaves, cost more than the encoding) but written to each client piece by piece. Written out
   * rather than JSON.stringify'd: base64 needs no escaping.
   */
  toJsonChunks(): readonly string[] {
    if (this.chunks === null) {
      const sinceMs = this.deps.clock.nowMs() - this.windowMs;
      const chunks: string[] = [];
      for (const [id, history] of this.devices) {
        const h = history.toJson(sinceMs);
        chunks.push(`${chunks.length === 0 ? '{' : ','}${JSON.stringify(id)}:{"n":${h.n},"points":${JSON.stringify(h.points)},"data":"${h.data}"}`);
      }
      chunks.push(chunks.length === 0 ? '{}' : '}');
      this.chunks = chunks;
    }
    return this.chunks;
  }

  /** Every device's samples of the last `windowMs` (by the agent's clock), by device id. */
  toJson(): Record<string, DeviceHistoryJson> {
    const sinceMs = this.deps.clock.nowMs() - this.windowMs;
    const out: Record<string, DeviceHistoryJson> = {};
    for (const [id, history] of this.devices) out[id] = history.toJson(sinceMs);
    return out;
  }

  private sample(): void {
    this.chunks = null;
    const readings = this.deps.readings();
    // A device a reload removed takes its history with it.
    for (const id of this.devices.keys()) if (!(id in readings)) this.devices.delete(id);
    for (const [id, reading] of Object.entries(readings)) {
      let history = this.devices.get(id);
      if (history === undefined) {
        history = new DeviceHistory(this.samples);
        this.devices.set(id, history);
      }
      history.add(reading);
    }
  }
}
