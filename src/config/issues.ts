// Turns schema issues into located problems with our own wording.
import * as z from 'zod';
import type { ConfigProblem } from './errors.js';
import type { KeyPath, YamlSource } from './yaml-source.js';

/** `schema` is the one the issues came from: it tells which keys an unknown key could have meant. */
export function issuesToProblems(issues: readonly z.core.$ZodIssue[], source: YamlSource, schema: z.ZodType): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const path: KeyPath = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, path, source.value);
      for (const key of issue.keys) problems.push(source.problem([...path, key], unknownKey(key, known)));
    } else {
      problems.push(source.problem(path, issue.message));
    }
  }
  return problems;
}

function unknownKey(key: string, known: string[]): string {
  const hint = suggest(key, known);
  return hint === undefined ? 'unknown key' : `unknown key (did you mean ${hint}?)`;
}

/** The keys the object schema at `path` allows, following the document's values through unions. */
function keysAt(schema: z.ZodType, path: KeyPath, value: unknown): string[] {
  let s: z.ZodType | undefined = schema;
  let v = value;
  for (let i = 0; ; i++) {
    while (s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    if (s instanceof z.ZodDiscriminatedUnion) s = pickOption(s, v);
    if (s === undefined) return [];
    const seg = path[i];
    if (seg === undefined) return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
    if (s instanceof z.ZodObject && typeof seg === 'string') s = s.shape[seg] as z.ZodType | undefined;
    else if (s instanceof z.ZodArray && typeof seg === 'number') s = s.element as z.ZodType;
    else return [];
    v = isRecord(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[seg] : undefined;
  }
}

function pickOption(union: z.ZodDiscriminatedUnion, value: unknown): z.ZodType | undefined {
  if (!isRecord(value)) return undefined;
  const key = union.def.discriminator;
  return (union.options as z.ZodType[]).find(
    (o) => o instanceof z.ZodObject && o.shape[key] instanceof z.ZodLiteral && o.shape[key].value === value[key],
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function suggest(key: string, known: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const d = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(name, key);
    if (best === undefined || d < best.distance) best = { name, distance: d };
  }
  // A typo is one or two edits away; further than that the hint would be a guess.
  return best !== undefined && best.distance <= Math.min(2, Math.floor(key.length / 3)) ? best.name : undefined;
}

/** Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i];
    if (row === undefined) continue;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}
