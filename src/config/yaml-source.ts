// A YAML file parsed into a plain value, remembering where each key is so that a problem found
// later (by the schema or a cross-check) can be reported at its line.
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { ConfigProblem } from './errors.js';

export type KeyPath = ReadonlyArray<string | number>;

/** `devices[1].points[0].max` */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

export interface YamlSource {
  file: string;
  /** The document as plain JS (maps become objects). */
  value: unknown;
  /** Line of the key at `path`; when it is missing, the line of the deepest map or item that exists. */
  lineOf(path: KeyPath): number;
  /** A problem at `path`, located. */
  problem(path: KeyPath, message: string): ConfigProblem;
}

// Aliases can multiply a small file into a huge value ("billion laughs"); a config needs few.
const MAX_ALIAS_COUNT = 100;

/** Parses `text`; returns its problems instead when it is not well-formed YAML. */
export function parseYamlSource(text: string, file: string): YamlSource | ConfigProblem[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number): number => Math.max(1, lines.linePos(offset).line);
  if (doc.errors.length > 0) {
    return doc.errors.map((e) => ({ file, line: lineAt(e.pos[0]), path: '', message: `invalid YAML: ${yamlMessage(e.message)}` }));
  }
  let value: unknown;
  try {
    value = compactStrings(doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return [{ file, line: 1, path: '', message: `invalid YAML: ${yamlMessage(message)}` }];
  }
  const lineOf = (path: KeyPath): number => locate(doc, path, lineAt);
  return {
    file,
    value,
    lineOf,
    problem: (path, message) => ({ file, line: lineOf(path), path: formatPath(path), message }),
  };
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/**
 * Every string of `value` that is Latin-1 text made anew in one byte per character. A file with a
 * single character beyond Latin-1 (a dash or an arrow in a comment: the profiles have them) is read
 * as a two-byte string, and every name and unit cut from it stays two-byte; so would every readings
 * snapshot, site page event and /metrics text that carries one, at twice the memory and copying, on
 * every poll and push. Other strings are left as they are.
 */
function compactStrings(value: unknown): unknown {
  if (typeof value === 'string') return isLatin1(value) ? Buffer.from(value, 'latin1').toString('latin1') : value;
  if (Array.isArray(value)) return value.map(compactStrings);
  if (value !== null && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [compactStrings(k), compactStrings(v)]));
  }
  return value;
}

function yamlMessage(message: string): string {
  // The library's messages may end with a position or a code snippet; one line is enough here.
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

function locate(doc: Document, path: KeyPath, lineAt: (offset: number) => number): number {
  let node: unknown = doc.contents;
  let line = isNode(node) ? startLine(node, lineAt) : 1;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      if (isNode(pair.key)) line = startLine(pair.key, lineAt);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (!isNode(item)) break;
      line = startLine(item, lineAt);
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function startLine(node: Node, lineAt: (offset: number) => number): number {
  return node.range ? lineAt(node.range[0]) : 1;
}
