// What every measurement hands back (figures beside their baseline and target), and the three
// renderings of a bench run: a table on stdout, tools/bench/results.json and tools/bench/RESULTS.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Summary } from './stats.js';

export type Verdict = 'pass' | 'miss' | 'info' | 'error';

export interface Target {
  /** As the issue states it, e.g. "p50 < 20 ms". */
  text: string;
  op: '<' | '<=' | '>=' | '>';
  /** In the figure's unit. */
  limit: number;
}

export interface Figure {
  /** Stable key, e.g. `scale.500.onTime`. */
  id: string;
  label: string;
  value: number | null;
  unit: string;
  baseline: { label: string; value: number | null } | null;
  target: Target | null;
  verdict: Verdict;
  /** For a miss: how far from the target, in words. */
  missBy: string | null;
}

export interface Section {
  id: string;
  title: string;
  figures: Figure[];
  /** Lines for RESULTS.md under the figures: how it was measured, per-run numbers. */
  method: string[];
  /** Raw numbers for results.json. */
  details: Record<string, unknown>;
  /** For RESULTS.md: why a target was missed and what would close it (empty when all pass). */
  analysis: string[];
  error: string | null;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryMB: number;
  node: string;
  os: string;
  date: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd: number[] | null;
}

export function describeMachine(): Machine {
  return {
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryMB: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    loadAverageAtEnd: null,
  };
}

interface FigureInput {
  id: string;
  label: string;
  value: number | null;
  unit: string;
  baseline?: { label: string; value: number | null } | null;
  target?: Target | null;
}

/** A figure with its verdict: pass/miss against the target, info without one, error without a value. */
export function figure(f: FigureInput): Figure {
  const target = f.target ?? null;
  const base = { id: f.id, label: f.label, value: f.value, unit: f.unit, baseline: f.baseline ?? null, target };
  if (f.value === null || Number.isNaN(f.value)) return { ...base, verdict: target ? 'error' : 'info', missBy: null };
  if (target === null) return { ...base, verdict: 'info', missBy: null };
  const ok = meets(f.value, target);
  return { ...base, verdict: ok ? 'pass' : 'miss', missBy: ok ? null : missText(f.value, target, f.unit) };
}

function meets(v: number, t: Target): boolean {
  switch (t.op) {
    case '<':
      return v < t.limit;
    case '<=':
      return v <= t.limit;
    case '>':
      return v > t.limit;
    case '>=':
      return v >= t.limit;
  }
}

function missText(v: number, t: Target, unit: string): string {
  const diff = Math.abs(v - t.limit);
  const amount = unit === '%' ? `${diff.toFixed(2)} percentage points` : fmt(diff, unit);
  const ratio = t.limit !== 0 ? ` (${(v / t.limit).toFixed(2)}x the limit)` : '';
  return t.op === '<' || t.op === '<=' ? `over by ${amount}${ratio}` : `short by ${amount}${ratio}`;
}

/** A number in its unit, rounded for reading. */
export function fmt(v: number | null, unit: string): string {
  if (v === null || Number.isNaN(v)) return '—';
  const count = unit === '' || unit === 'requests';
  const digits = (count && Number.isInteger(v)) || Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  const text = unit === '%' ? v.toFixed(2) : v.toFixed(digits);
  return unit === '' ? text : unit === '%' ? `${text} %` : `${text} ${unit}`;
}

/** A markdown table row `| label | n | min | p50 | p99 | max |` of a summary in ms. */
function summaryRow(label: string, s: Summary): string {
  const f = (v: number): string => `${v.toFixed(1)} ms`;
  return `| ${label} | ${s.n} | ${f(s.min)} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} |`;
}

/** A markdown table of summaries in ms: its header, then one summaryRow per `[label, summary]`. */
export function summaryTable(rows: ReadonlyArray<readonly [string, Summary]>): string[] {
  return ['| | n | min | p50 | p99 | max |', '| --- | --- | --- | --- | --- | --- |', ...rows.map(([label, s]) => summaryRow(label, s))];
}

export function errorSection(id: string, title: string, err: unknown): Section {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return { id, title, figures: [], method: [], details: {}, analysis: [], error: message };
}

// ---- stdout ------------------------------------------------------------------------------------

export function renderTable(sections: readonly Section[]): string {
  const rows: string[][] = [['', 'figure', 'value', 'baseline', 'target', 'verdict']];
  for (const s of sections) {
    if (s.error !== null) rows.push([s.id, `FAILED: ${firstLine(s.error)}`, '', '', '', 'error']);
    for (const f of s.figures) {
      const base = f.baseline === null ? '' : `${fmt(f.baseline.value, f.unit)} (${f.baseline.label})`;
      rows.push([s.id, f.label, fmt(f.value, f.unit), base, f.target?.text ?? '', f.verdict.toUpperCase()]);
    }
  }
  const widths = rows[0]?.map((_, i) => Math.min(60, Math.max(...rows.map((r) => (r[i] ?? '').length)))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

// ---- results.json and RESULTS.md ---------------------------------------------------------------

export interface BenchRun {
  machine: Machine;
  durationSeconds: number;
  sections: Section[];
}

export function writeResults(dir: string, run: BenchRun): { json: string; markdown: string } {
  fs.mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'results.json');
  const markdown = path.join(dir, 'RESULTS.md');
  fs.writeFileSync(json, JSON.stringify(run, jsonReplacer, 2) + '\n');
  fs.writeFileSync(markdown, renderMarkdown(run));
  return { json, markdown };
}

/** Infinity and NaN are not JSON: write them as null. */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/** The fleet (issue 13) has its own run and file: the link to it, here and in every RESULTS.md written. */
export const FLEET_SECTION = [
  '## Fleet',
  '',
  'Many sites on one ZooKeeper ensemble (issue 13) are measured apart, by `npm run bench:fleet` (it starts its own',
  'three-server ensemble and a fleet of agents, 4 to 6 minutes): writes, bytes and memory per site beside',
  "today's behaviour, commands and failover under fleet load, the ensemble's write capacity and sites per ensemble,",
  'in [FLEET.md](FLEET.md) and `fleet.json`.',
];

const VERDICT_MARK: Record<Verdict, string> = { pass: 'pass', miss: '**MISS**', info: '—', error: '**ERROR**' };

export function renderMarkdown(run: BenchRun): string {
  const m = run.machine;
  const out: string[] = [
    '# gridkeeper benchmark results',
    '',
    'Written by `npm run bench` (tools/bench/); the same figures are in `results.json`. Every figure',
    'stands beside a baseline measured in the same run and the target of issue 5.',
    '',
    `- Date: ${m.date}`,
    `- Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryMB} MB RAM, ${m.os}`,
    `- Node.js: ${m.node}`,
    `- Load average (1, 5, 15 min) at start: ${m.loadAverageAtStart.join(', ')}; at end: ${m.loadAverageAtEnd?.join(', ') ?? '?'}` +
      ' (the machine is shared: other work running beside the bench shows up as noise)',
    `- Bench duration: ${Math.round(run.durationSeconds)} s`,
    '',
    '## Summary',
    '',
    '| | figure | value | baseline | target | verdict |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of run.sections) {
    if (s.error !== null) out.push(`| ${s.id} | ${s.title}: failed (${escapeCell(firstLine(s.error))}) | | | | **ERROR** |`);
    for (const f of s.figures) out.push(figureRow(s.id, f));
  }
  for (const s of run.sections) {
    out.push('', `## ${s.title}`, '');
    if (s.error !== null) out.push('The measurement failed:', '', '```', s.error, '```', '');
    if (s.figures.length > 0) {
      out.push('| figure | value | baseline | target | verdict |', '| --- | --- | --- | --- | --- |');
      for (const f of s.figures) out.push(figureRow(null, f));
      out.push('');
    }
    const misses = s.figures.filter((f) => f.verdict === 'miss');
    for (const f of misses) out.push(`- Missed: ${f.label}: ${fmt(f.value, f.unit)} against ${f.target?.text ?? '?'}, ${f.missBy ?? ''}.`);
    if (misses.length > 0) out.push('');
    if (s.method.length > 0) out.push(...s.method, '');
    if (s.analysis.length > 0) out.push(...s.analysis, '');
  }
  out.push('', ...FLEET_SECTION, '');
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

export function figureRow(sectionId: string | null, f: Figure): string {
  const base = f.baseline === null ? '' : `${fmt(f.baseline.value, f.unit)} (${f.baseline.label})`;
  const cells = [f.label, fmt(f.value, f.unit), base, f.target?.text ?? '', VERDICT_MARK[f.verdict]].map(escapeCell);
  return `| ${sectionId === null ? '' : `${sectionId} | `}${cells.join(' | ')} |`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
