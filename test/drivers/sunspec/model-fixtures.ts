// Model definitions written by a test: YAML text into a temporary folder, loaded by the real loader.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelDefinitions } from '../../../src/drivers/sunspec/models.js';
import type { ModelDef } from '../../../src/drivers/sunspec/types.js';

/** Writes `files` (name → YAML text) into a fresh folder; the caller removes it with `cleanup`. */
export function modelsDir(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gridkeeper-sunspec-models-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The one model defined by `text` (a file model-<id>.yaml). */
export function modelFromYaml(id: number, text: string): ModelDef {
  const { dir, cleanup } = modelsDir({ [`model-${id}.yaml`]: text });
  try {
    const model = loadModelDefinitions(dir).get(id);
    if (model === undefined) throw new Error(`model ${id} not loaded`);
    return model;
  } finally {
    cleanup();
  }
}
