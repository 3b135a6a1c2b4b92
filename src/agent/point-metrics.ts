// Per-point Prometheus metrics (CONTRACT.md section 9), written when /metrics is scraped, never by a
// timer:
//   gridkeeper_point_value{device,point,unit}  the last good value of every numeric point; null
//                                              ("not implemented"), text and bool points are omitted
//   gridkeeper_point_age_seconds{device}       how old that value is (now - readAt); absent before
//                                              a device's first good poll
// A device in error keeps its last good values (as the readings snapshot does), and its age grows:
// alert on the age, not on the value. The series are the points the drivers publish, so their number
// is bounded by the config (and by what SunSpec discovery found), never by the data.
//
// Written as text from the readings rather than kept in prom-client gauges: 500 devices have 8,500
// point series, and resetting and setting them in gauges, then formatting each label of each, took
// 70 ms per scrape of the event loop the polls share. Here each series' `name{labels} ` is made once
// (per device and units: a SunSpec rediscovery or a reload makes them anew) and a scrape only writes
// the values. Nothing is kept between scrapes but those strings: a point that turned null (or a
// device rediscovered with other models) leaves no stale series behind.
import type { Clock } from '../clock.js';
import type { DeviceReading } from './device-state.js';
import type { AgentMetrics } from './metrics.js';
import { escapeLabelValue, familyHead, flat, joinInGroups, sampleValue } from './metrics-text.js';
import type { PointUnits } from './point-units.js';

export interface PointMetricSources {
  readings(): Record<string, DeviceReading>;
  units: PointUnits;
  clock: Clock;
}

const VALUE = 'gridkeeper_point_value';
const AGE = 'gridkeeper_point_age_seconds';
const VALUE_HEAD = familyHead(VALUE, 'Last good value of a numeric point, in its unit (null and non-numeric points omitted)', 'gauge');
const AGE_HEAD = familyHead(AGE, 'Seconds since the values of a device were read (its last good poll)', 'gauge');

/** The series names of one device, for the units they were made with. */
interface DeviceSeries {
  units: ReadonlyMap<string, string>;
  /** `\ngridkeeper_point_age_seconds{device="..."} ` (each line starts with its line break) */
  age: string;
  /** By point: `\ngridkeeper_point_value{device="...",point="...",unit="..."} ` */
  values: Map<string, string>;
  /** `{device="...",point="` */
  valuePrefix: string;
}

export class PointMetrics {
  private series = new Map<string, DeviceSeries>();

  constructor(
    metrics: AgentMetrics,
    private readonly sources: PointMetricSources,
  ) {
    metrics.addTextFamilies(() => this.textPieces());
  }

  /** Both families as Prometheus text (no final newline). */
  text(): string {
    return this.textPieces().join('');
  }

  /** text() in pieces of a few dozen devices each. */
  textPieces(): string[] {
    // A string per device, joined a few dozen at a time: one copy of each line, where a string of
    // every line joined (or one built line by line) would copy most of them twice.
    const values: string[] = [];
    const ages: string[] = [];
    const nowMs = this.sources.clock.nowMs();
    const next = new Map<string, DeviceSeries>();
    for (const [device, reading] of Object.entries(this.sources.readings())) {
      const s = this.seriesOf(device);
      next.set(device, s);
      let lines = '';
      for (const [point, v] of Object.entries(reading.values)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        let name = s.values.get(point);
        if (name === undefined) {
          name = flat(`\n${VALUE}${s.valuePrefix}${escapeLabelValue(point)}",unit="${escapeLabelValue(s.units.get(point) ?? '')}"} `);
          s.values.set(point, name);
        }
        lines += name + sampleValue(v);
      }
      values.push(lines);
      const readAtMs = reading.readAt === null ? NaN : Date.parse(reading.readAt);
      if (Number.isFinite(readAtMs)) ages.push(s.age + sampleValue(Math.max(0, nowMs - readAtMs) / 1000));
    }
    this.series = next; // a device a reload removed takes its names with it
    return [VALUE_HEAD, ...joinInGroups(values), `\n\n${AGE_HEAD}${ages.join('')}`];
  }

  private seriesOf(device: string): DeviceSeries {
    const units = this.sources.units.of(device);
    const known = this.series.get(device);
    if (known?.units === units) return known;
    const label = escapeLabelValue(device);
    return { units, age: flat(`\n${AGE}{device="${label}"} `), values: new Map(), valuePrefix: `{device="${label}",point="` };
  }
}
