// The SunSpec model definitions: data files sunspec/models/model-<id>.yaml of the package, written
// from the published SunSpec model specifications (sunspec/README.md). Loaded strictly, like the
// profiles: unknown keys, duplicate names, sizes that do not fit their type, dangling scale-factor
// references and a length that disagrees with the points are errors naming file, line and key.
// The package's folder is read once per process; a broken file there is a packaging bug.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigProblem } from '../../config/errors.js';
import { issuesToProblems } from '../../config/issues.js';
import { parseYamlSource, type YamlSource } from '../../config/yaml-source.js';
import { packageRoot } from '../../package-root.js';
import { ModelDefinitionError } from './errors.js';
import { checkModel, type Finding } from './model-checks.js';
import { modelFileSchema, type RawGroupDef, type RawModelFile, type RawPointDef } from './model-schema.js';
import type { GroupCount, GroupDef, ModelDef, PointDef } from './types.js';

/** The models CONTRACT.md section 6 says gridkeeper understands at least. */
export const CONTRACT_MODEL_IDS: readonly number[] = [1, 101, 102, 103, 111, 112, 113, 120, 121, 122, 123, 124, 160, 701, 702, 704, 802];

const FILE_RE = /^model-([1-9][0-9]*)\.yaml$/;

/** `sunspec/models/` of the package. */
export function defaultModelsDir(): string {
  return join(packageRoot(), 'sunspec', 'models');
}

let packaged: ReadonlyMap<number, ModelDef> | null = null;

/** The package's model definitions by id, loaded on first use. Throws ModelDefinitionError. */
export function sunspecModels(): ReadonlyMap<number, ModelDef> {
  packaged ??= loadModelDefinitions(defaultModelsDir());
  return packaged;
}

/** The package's definition of model `id`, or undefined for a model gridkeeper does not know (skipped by its length). */
export function modelDefinition(id: number): ModelDef | undefined {
  return sunspecModels().get(id);
}

/** Every model-<id>.yaml in `dir`, checked. Throws ModelDefinitionError holding every problem of every file. */
export function loadModelDefinitions(dir: string): ReadonlyMap<number, ModelDef> {
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  } catch (err) {
    throw new ModelDefinitionError([{ file: dir, line: 1, path: '', message: `cannot read the folder: ${messageOf(err)}` }]);
  }
  const problems: ConfigProblem[] = [];
  const models = new Map<number, ModelDef>();
  for (const entry of entries) {
    const file = join(dir, entry);
    const read = readModelFile(file, entry);
    if (!read.ok) {
      problems.push(...read.problems);
    } else if (models.has(read.model.id)) {
      problems.push({ file, line: 1, path: 'id', message: `model ${read.model.id} is also defined in ${models.get(read.model.id)?.file ?? '?'}` });
    } else {
      models.set(read.model.id, read.model);
    }
  }
  if (problems.length > 0) throw new ModelDefinitionError(problems);
  return new Map([...models].sort(([a], [b]) => a - b));
}

type ModelRead = { ok: true; model: ModelDef } | { ok: false; problems: ConfigProblem[] };

function readModelFile(file: string, entry: string): ModelRead {
  const fail = (problems: ConfigProblem[]): ModelRead => ({ ok: false, problems });
  const named = FILE_RE.exec(entry);
  if (named === null) return fail([{ file, line: 1, path: '', message: 'a model file must be named model-<id>.yaml' }]);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail([{ file, line: 1, path: '', message: `cannot read: ${messageOf(err)}` }]);
  }
  const source = parseYamlSource(text, file);
  if (Array.isArray(source)) return fail(source);
  const parsed = modelFileSchema.safeParse(source.value);
  if (!parsed.success) return fail(issuesToProblems(parsed.error.issues, source, modelFileSchema));

  const findings: Finding[] = [];
  if (String(parsed.data.id) !== named[1]) findings.push({ path: ['id'], message: `is ${parsed.data.id}, but the file is named ${entry}` });
  const model = toModel(parsed.data, file, findings);
  findings.push(...checkModel(model));
  return findings.length > 0 ? fail(located(source, findings)) : { ok: true, model };
}

function located(source: YamlSource, findings: Finding[]): ConfigProblem[] {
  return findings.map((f) => source.problem(f.path, f.message));
}

// ---- defaults filled in ---------------------------------------------------------------------------

function toModel(raw: RawModelFile, file: string, findings: Finding[]): ModelDef {
  return {
    id: raw.id,
    name: raw.name,
    ...(raw.label === undefined ? {} : { label: raw.label }),
    length: raw.length,
    file,
    points: raw.points.map(toPoint),
    groups: (raw.groups ?? []).map((g, i) => toGroup(g, ['groups', i], findings)),
  };
}

function toGroup(raw: RawGroupDef, path: Finding['path'], findings: Finding[]): GroupDef {
  return {
    name: raw.name,
    ...(raw.label === undefined ? {} : { label: raw.label }),
    count: toCount(raw, path, findings),
    sync: raw.sync ?? false,
    points: (raw.points ?? []).map(toPoint),
    groups: (raw.groups ?? []).map((g, i) => toGroup(g, [...path, 'groups', i], findings)),
  };
}

function toCount(raw: RawGroupDef, path: Finding['path'], findings: Finding[]): GroupCount {
  if (raw.countPoint !== undefined) {
    if (raw.count !== undefined) findings.push({ path: [...path, 'countPoint'], message: 'count and countPoint exclude each other' });
    return { kind: 'point', point: raw.countPoint };
  }
  if (raw.count === 'fill') return { kind: 'fill' };
  return { kind: 'fixed', count: raw.count ?? 1 };
}

function toPoint(raw: RawPointDef): PointDef {
  // Optional keys appear only when written, so a definition has no `key: undefined` entries.
  return {
    name: raw.name,
    type: raw.type,
    size: raw.size,
    ...(raw.sf === undefined ? {} : { sf: raw.sf }),
    ...(raw.units === undefined ? {} : { units: raw.units }),
    access: raw.access ?? 'R',
    mandatory: raw.mandatory ?? false,
    ...(raw.label === undefined ? {} : { label: raw.label }),
    ...(raw.symbols === undefined ? {} : { symbols: raw.symbols }),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
