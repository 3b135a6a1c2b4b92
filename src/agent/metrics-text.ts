// Prometheus text exposition (format 0.0.4) for the metric families the agent writes itself rather
// than through prom-client (point-metrics.ts, poll-durations.ts): those have a series per device or
// per point, thousands at 500 devices, and prom-client formats every label of every line anew
// through three regular expressions at each scrape, on the event loop the polls share. These write
// what prom-client would, byte for byte (test/agent/metrics-text.test.ts compares them), from label
// strings made once per series.

/** A label value needs escaping when it holds one of these: backslash, line break, double quote. */
const NEEDS_ESCAPE = /[\\\n"]/;

/** `s` as a label value inside double quotes (the exposition format's escapes). */
export function escapeLabelValue(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : s;
}

/** A sample value as prom-client writes it (`Nan`, not `NaN`: what Prometheus has always read from it). */
export function sampleValue(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

/** The HELP and TYPE lines of a family. */
export function familyHead(name: string, help: string, type: 'gauge' | 'counter' | 'histogram'): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}`;
}
