// Where the package's data folders (profiles/, the SunSpec models) are: the nearest folder above this
// file that holds gridkeeper's package.json. Found by walking up rather than by a fixed depth, because
// the same module runs as src/*.ts (tests), dist/*.js (the product), from the tools' own build, and
// from /usr/lib/gridkeeper/dist in the Debian package.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;
let cachedVersion: string | null = null;

export function packageRoot(): string {
  if (cached !== null) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isGridkeeperManifest(manifest)) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`gridkeeper's package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The `version` of gridkeeper's package.json, as `gridkeeper --version` prints it. */
export function packageVersion(): string {
  if (cachedVersion !== null) return cachedVersion;
  const manifest = join(packageRoot(), 'package.json');
  const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
  const version = typeof parsed === 'object' && parsed !== null && 'version' in parsed ? parsed.version : undefined;
  if (typeof version !== 'string' || version === '') throw new Error(`${manifest} has no version`);
  return (cachedVersion = version);
}

function isGridkeeperManifest(file: string): boolean {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed && parsed.name === 'gridkeeper';
  } catch {
    return false;
  }
}
