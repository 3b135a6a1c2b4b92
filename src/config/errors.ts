import { GridkeeperError } from '../errors.js';

/** One thing wrong with a config (or profile) file, located at the line of the offending key. */
export interface ConfigProblem {
  /** The file as the caller named it (the config), or the profile file the problem is in. */
  file: string;
  /** 1-based line of the key; for a missing key, the line of the map that lacks it. */
  line: number;
  /** Key path like `devices[1].points[0].max`; empty for the document as a whole. */
  path: string;
  message: string;
}

/** `FILE:LINE: path.to.key: message` — the form `validate` prints and `run` logs. */
export function formatProblem(p: ConfigProblem): string {
  return p.path === '' ? `${p.file}:${p.line}: ${p.message}` : `${p.file}:${p.line}: ${p.path}: ${p.message}`;
}

/**
 * Problems in reading order, duplicates dropped: files in the order they first appear (the config
 * before the profiles it names), then by line, then by path.
 */
export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  const fileRank = new Map<string, number>();
  const seen = new Set<string>();
  const unique: ConfigProblem[] = [];
  for (const p of problems) {
    if (!fileRank.has(p.file)) fileRank.set(p.file, fileRank.size);
    const key = formatProblem(p);
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(p);
  }
  const rank = (p: ConfigProblem): number => fileRank.get(p.file) ?? 0;
  return unique.sort((a, b) => rank(a) - rank(b) || a.line - b.line || a.path.localeCompare(b.path));
}

/** A config that cannot be used. Never retryable: the file has to be fixed. Holds every problem found. */
export class ConfigError extends GridkeeperError {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const sorted = sortProblems(problems);
    const first = sorted[0];
    const more = sorted.length > 1 ? ` (and ${sorted.length - 1} more)` : '';
    super(first === undefined ? 'invalid configuration' : `invalid configuration: ${formatProblem(first)}${more}`);
    this.problems = sorted;
  }
}
