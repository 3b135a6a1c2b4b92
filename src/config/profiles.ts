// Built-in device profiles: YAML data files in <package root>/profiles/, in the point format of the
// config and parsed through the same strict point schema and point checks.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { ConfigError, type ConfigProblem } from './errors.js';
import { issuesToProblems } from './issues.js';
import { checkFallbackRefs } from './fallback-checks.js';
import { checkDuplicateNames, checkPoint, checkPointSet, type LocatedPoint } from './point-checks.js';
import { resolvePoint } from './resolve.js';
import { PROFILE_NAME_RE, profileSchema, type RawPoint } from './schema.js';
import type { PointConfig } from './types.js';
import { parseYamlSource } from './yaml-source.js';

/** `profiles/` of the package. */
export function defaultProfilesDir(): string {
  return join(packageRoot(), 'profiles');
}

/** Names of the profiles in `dir`, sorted. */
export function profileNames(dir: string = defaultProfilesDir()): string[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .filter((n) => PROFILE_NAME_RE.test(n))
    .sort();
}

export type ProfileRead =
  | { ok: true; name: string; file: string; points: RawPoint[] }
  | { ok: false; name: string; file: string; problems: ConfigProblem[] };

/** Reads and checks a profile without throwing; its problems name the profile file. */
export function readProfile(name: string, dir: string = defaultProfilesDir()): ProfileRead {
  const file = join(dir, `${name}.yaml`);
  const fail = (problems: ConfigProblem[]): ProfileRead => ({ ok: false, name, file, problems });
  if (!PROFILE_NAME_RE.test(name) || !profileNames(dir).includes(name)) {
    return fail([{ file, line: 1, path: '', message: `no profile '${name}' (built-in: ${profileNames(dir).join(', ')})` }]);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail([{ file, line: 1, path: '', message: `cannot read profile: ${err instanceof Error ? err.message : String(err)}` }]);
  }
  const source = parseYamlSource(text, file);
  if (Array.isArray(source)) return fail(source);
  const parsed = profileSchema.safeParse(source.value);
  if (!parsed.success) return fail(issuesToProblems(parsed.error.issues, source, profileSchema));

  const located: LocatedPoint[] = parsed.data.points.map((point, i) => ({ point, path: ['points', i] }));
  const findings = [
    ...located.flatMap(checkPoint),
    ...checkDuplicateNames(located),
    ...checkPointSet(located, 'profile'),
    ...checkFallbackRefs(located, 'profile'),
  ];
  if (findings.length > 0) return fail(findings.map((f) => source.problem(f.path, f.message)));
  return { ok: true, name, file, points: parsed.data.points };
}

/** The points of a built-in profile, defaults filled in. Throws ConfigError naming the profile file. */
export function loadProfile(name: string, dir: string = defaultProfilesDir()): PointConfig[] {
  const read = readProfile(name, dir);
  if (!read.ok) throw new ConfigError(read.problems);
  return read.points.map(resolvePoint);
}
