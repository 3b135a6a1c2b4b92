// gridkeeper_poll_duration_seconds{device}: how long each device's polls take, a histogram per
// device, kept and written here rather than by a prom-client Histogram. At 500 devices that is 8,000
// lines per scrape, for which prom-client made an object per line and formatted its labels anew (30 ms
// per scrape, on the event loop the polls share), and every observe hashed the labels again. Here a
// device's counts sit in one array and its line names are made once; the text is prom-client's, byte
// for byte (test/agent/metrics-text.test.ts), so nothing reading /metrics can tell.
import { escapeLabelValue, familyHead, flat, joinInGroups, sampleValue } from './metrics-text.js';

export interface PollDurationSeries {
  observe(seconds: number): void;
}

/** One device's histogram: a count per bucket (not cumulative: written cumulative), sum and count. */
class DeviceDurations implements PollDurationSeries {
  private readonly perBucket: Float64Array;
  private count = 0;
  private sum = 0;
  /** `name_bucket{le="...",device="..."} ` per bound, then +Inf, `name_sum{...} `, `name_count{...} `. */
  private readonly names: string[];

  constructor(
    private readonly bounds: readonly number[],
    name: string,
    device: string,
  ) {
    this.perBucket = new Float64Array(bounds.length);
    const label = `device="${escapeLabelValue(device)}"`;
    this.names = [
      ...bounds.map((le) => `${name}_bucket{le="${le}",${label}} `),
      `${name}_bucket{le="+Inf",${label}} `,
      `${name}_sum{${label}} `,
      `${name}_count{${label}} `,
    ].map(flat);
  }

  observe(seconds: number): void {
    if (!Number.isFinite(seconds)) return; // a duration always is; prom-client would throw
    const i = this.bounds.findIndex((le) => seconds <= le);
    if (i !== -1) this.perBucket[i] = (this.perBucket[i] ?? 0) + 1;
    this.sum += seconds;
    this.count += 1;
  }

  /** Its lines, each after a line break; none before its first observation (as prom-client). */
  lines(): string {
    if (this.count === 0) return '';
    let out = '';
    let cumulative = 0;
    this.perBucket.forEach((n, i) => {
      cumulative += n;
      out += `\n${this.names[i]}${sampleValue(cumulative)}`;
    });
    const n = this.bounds.length;
    return `${out}\n${this.names[n]}${sampleValue(this.count)}\n${this.names[n + 1]}${sampleValue(this.sum)}\n${this.names[n + 2]}${sampleValue(this.count)}`;
  }
}

export class PollDurations {
  private readonly devices = new Map<string, DeviceDurations>();
  private readonly head: string;

  constructor(
    private readonly name: string,
    help: string,
    private readonly bounds: readonly number[],
  ) {
    this.head = familyHead(name, help, 'histogram');
  }

  /** The device's series (the same one for every call with that device, until remove()). */
  labels(labels: { device: string }): PollDurationSeries {
    let series = this.devices.get(labels.device);
    if (series === undefined) {
      series = new DeviceDurations(this.bounds, this.name, labels.device);
      this.devices.set(labels.device, series);
    }
    return series;
  }

  /** A device that left the config: its series goes. */
  remove(labels: { device: string }): void {
    this.devices.delete(labels.device);
  }

  /** The family as Prometheus text (no final newline). */
  text(): string {
    return this.textPieces().join('');
  }

  /** text() in pieces of a few dozen devices each. */
  textPieces(): string[] {
    const lines: string[] = [];
    for (const series of this.devices.values()) lines.push(series.lines());
    return [this.head, ...joinInGroups(lines)];
  }
}
