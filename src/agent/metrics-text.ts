// Prometheus text exposition (format 0.0.4) for the metric families the agent writes itself rather
// than through prom-client (point-metrics.ts, poll-durations.ts): those have a series per device or
// per point, thousands at 500 devices, and prom-client formats every label of every line anew
// through three regular expressions at each scrape, on the event loop the polls share. These write
// what prom-client would, byte for byte (test/agent/metrics-text.test.ts compares them), from label
// strings made once per series, in pieces of tens of KB (see AgentMetrics.textPieces()).

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

/**
 * `s` as one flat string. A name made once and written at every scrape is built by concatenation,
 * which V8 keeps as a tree of its pieces (a cons string) for as long as the name lives: thousands of
 * such trees took 3 MB at 500 devices, and each scrape walked every tree again to copy it. Made flat
 * once, a name is one object that copies straight into the text.
 */
export function flat(s: string): string {
  const copy = Buffer.from(s, 'utf8').toString('utf8');
  return copy === s ? copy : s; // a lone surrogate does not survive UTF-8: keep the tree then
}

/** Devices whose lines go into one piece of a family's text: about 40 KB. */
export const DEVICES_PER_PIECE = 30;

/** `parts` (one per device) joined `per` at a time: the pieces of a family's text. */
export function joinInGroups(parts: readonly string[], per = DEVICES_PER_PIECE): string[] {
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += per) out.push(parts.slice(i, i + per).join(''));
  return out;
}
