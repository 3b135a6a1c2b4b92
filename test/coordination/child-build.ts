// Builds a TypeScript entry (and the relative imports it reaches) into plain ES modules in a temp
// dir, so a test can run an agent in a child process it can SIGKILL. TypeScript's transpileModule
// strips the types file by file (no type check: `tsc` does that for the repository). The temp dir
// gets a `node_modules` symlink to the repository's, so `pino` and `zookeeper` resolve as usual.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../../tools/devtools/processes.js';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';

const IMPORT_RE = /(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** Returns the path of the built .js entry; `entry` is relative to the repository root. */
export function buildChildScript(entry: string): string {
  const outDir = makeTempDir('coord-child');
  fs.writeFileSync(path.join(outDir, 'package.json'), '{"type":"module"}\n');
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(outDir, 'node_modules'), 'dir');
  const todo = [path.resolve(REPO_ROOT, entry)];
  const done = new Set<string>();
  while (todo.length > 0) {
    const file = todo.pop() ?? '';
    if (done.has(file)) continue;
    done.add(file);
    const source = fs.readFileSync(file, 'utf8');
    const out = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    const target = path.join(outDir, path.relative(REPO_ROOT, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out);
    for (const m of source.matchAll(IMPORT_RE)) {
      const spec = m[1] ?? m[2];
      if (spec === undefined) continue;
      const resolved = path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts');
      if (fs.existsSync(resolved)) todo.push(resolved);
    }
  }
  return path.join(outDir, entry).replace(/\.ts$/, '.js');
}
