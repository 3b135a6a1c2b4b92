// Broken model definition files: each is refused with a ModelDefinitionError whose problems name
// the file, the line and the key.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelDefinitionError } from '../../../src/drivers/sunspec/errors.js';
import { loadModelDefinitions } from '../../../src/drivers/sunspec/models.js';
import { modelsDir } from './model-fixtures.js';

type Expected = { file: string; line: number; path: string; message: string };

let cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

function problemsOf(files: Record<string, string>): Expected[] {
  const { dir, cleanup } = modelsDir(files);
  cleanups.push(cleanup);
  try {
    loadModelDefinitions(dir);
  } catch (err) {
    if (!(err instanceof ModelDefinitionError)) throw err;
    expect(err.code).toBe('SUNSPEC_MODEL_INVALID');
    expect(err.retryable).toBe(false);
    return err.problems.map(({ file, line, path, message }) => ({ file: file.slice(dir.length + 1), line, path, message }));
  }
  throw new Error('the models were accepted');
}

// A valid model: lines 1..6, points from line 5.
const GOOD = `id: 64900
name: test_model
length: 4
points:
  - { name: W, type: int16, size: 1, sf: W_SF, units: W }
  - { name: W_SF, type: sunssf, size: 1 }
  - { name: WH, type: acc32, size: 2, sf: 0, units: Wh }
`;
const FILE = 'model-64900.yaml';
const withLine = (extra: string): string => GOOD + extra;

describe('model definition files', () => {
  it('accepts the valid one', () => {
    const { dir, cleanup } = modelsDir({ [FILE]: GOOD });
    cleanups.push(cleanup);
    const model = loadModelDefinitions(dir).get(64900);
    expect(model?.points.map((p) => [p.name, p.access, p.mandatory, p.sf])).toEqual([
      ['W', 'R', false, 'W_SF'],
      ['W_SF', 'R', false, undefined],
      ['WH', 'R', false, 0],
    ]);
    expect(model?.file).toBe(join(dir, FILE));
  });

  const cases: Array<[string, Record<string, string>, Expected[]]> = [
    [
      'an unknown key on a point',
      { [FILE]: GOOD.replace('units: W }', 'unit: W }') },
      [{ file: FILE, line: 5, path: 'points[0].unit', message: 'unknown key (did you mean units?)' }],
    ],
    [
      'an unknown key on the model',
      { [FILE]: GOOD.replace('length: 4', 'length: 4\nlenght: 4') },
      [{ file: FILE, line: 4, path: 'lenght', message: 'unknown key (did you mean length?)' }],
    ],
    [
      'a duplicate point name',
      { [FILE]: withLine('  - { name: W, type: int16, size: 1 }\n').replace('length: 4', 'length: 5') },
      [{ file: FILE, line: 8, path: 'points[3].name', message: 'duplicate point name W in this group' }],
    ],
    [
      'a duplicate key in one map',
      { [FILE]: GOOD.replace('length: 4', 'length: 4\nlength: 4') },
      [{ file: FILE, line: 4, path: '', message: 'invalid YAML: Map keys must be unique' }],
    ],
    [
      'an unknown type',
      { [FILE]: GOOD.replace('type: acc32', 'type: acc31') },
      [{ file: FILE, line: 7, path: 'points[2].type', message: expect.stringMatching(/^must be one of int16, /) as unknown as string }],
    ],
    [
      'a size that does not fit the type',
      { [FILE]: GOOD.replace('type: acc32, size: 2', 'type: acc32, size: 1').replace('length: 4', 'length: 3') },
      [{ file: FILE, line: 7, path: 'points[2].size', message: 'must be 2 for type acc32, not 1' }],
    ],
    [
      'a length that disagrees with the points',
      { [FILE]: GOOD.replace('length: 4', 'length: 5') },
      [{ file: FILE, line: 3, path: 'length', message: 'is 5, but the points add up to 4 registers' }],
    ],
    [
      'a scale factor naming no point',
      { [FILE]: GOOD.replace('sf: W_SF', 'sf: VA_SF') },
      [{ file: FILE, line: 5, path: 'points[0].sf', message: 'no point VA_SF in this group or an enclosing one' }],
    ],
    [
      'a scale factor naming a point that is no sunssf',
      { [FILE]: GOOD.replace('sf: W_SF', 'sf: WH') },
      [{ file: FILE, line: 5, path: 'points[0].sf', message: 'WH is a acc32 point, not a sunssf' }],
    ],
    [
      'a literal scale factor out of range',
      { [FILE]: GOOD.replace('sf: 0', 'sf: 11') },
      [{ file: FILE, line: 7, path: 'points[2].sf', message: 'must be an integer from -10 to 10' }],
    ],
    [
      'a fill group that is not the last',
      {
        [FILE]: withLine(`groups:
  - name: a
    count: fill
    points:
      - { name: X, type: uint16, size: 1 }
  - name: b
    points:
      - { name: Y, type: uint16, size: 1 }
`).replace('length: 4', 'length: 5'),
      },
      [{ file: FILE, line: 10, path: 'groups[0].count', message: 'fill is allowed only on the last group of the model' }],
    ],
    [
      'a count point that is not a count',
      {
        [FILE]: withLine(`groups:
  - name: a
    countPoint: WH
    points:
      - { name: X, type: uint16, size: 1 }
`),
      },
      [{ file: FILE, line: 10, path: 'groups[0].countPoint', message: 'WH is a acc32 point, not a count' }],
    ],
    [
      'a file whose id is not its name',
      { 'model-64901.yaml': GOOD },
      [{ file: 'model-64901.yaml', line: 1, path: 'id', message: 'is 64900, but the file is named model-64901.yaml' }],
    ],
    [
      'a file named otherwise',
      { 'inverter.yaml': GOOD },
      [{ file: 'inverter.yaml', line: 1, path: '', message: 'a model file must be named model-<id>.yaml' }],
    ],
    [
      'a point named like a point of a nested group',
      {
        [FILE]: withLine(`  - { name: G_X, type: uint16, size: 1 }
groups:
  - name: G
    points:
      - { name: X, type: uint16, size: 1 }
`).replace('length: 4', 'length: 6'),
      },
      [{ file: FILE, line: 12, path: 'groups[0].points[0].name', message: 'published name m64900_G_X is also the name of the point at points[3].name' }],
    ],
    [
      'a scale factor inside a nested group, out of reach of a top-level point',
      {
        [FILE]: withLine(`  - { name: A, type: int16, size: 1, sf: A_SF }
groups:
  - name: G
    points:
      - { name: A_SF, type: sunssf, size: 1 }
`).replace('length: 4', 'length: 6'),
      },
      [{ file: FILE, line: 8, path: 'points[3].sf', message: 'no point A_SF in this group or an enclosing one' }],
    ],
  ];

  it.each(cases)('refuses %s', (_name, files, expected) => {
    expect(problemsOf(files)).toEqual(expected);
  });

  it('reports every broken file, not only the first', () => {
    const problems = problemsOf({
      [FILE]: GOOD.replace('units: W }', 'unit: W }'),
      'model-64901.yaml': GOOD.replace('64900', '64901').replace('length: 4', 'length: 6'),
    });
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.path}`)).toEqual(['model-64900.yaml:5: points[0].unit', 'model-64901.yaml:3: length']);
  });

  it('names file, line and key in its message', () => {
    const { dir, cleanup } = modelsDir({ [FILE]: GOOD.replace('units: W }', 'unit: W }') });
    cleanups.push(cleanup);
    expect(() => loadModelDefinitions(dir)).toThrow(`invalid SunSpec model definition: ${join(dir, FILE)}:5: points[0].unit: unknown key (did you mean units?)`);
  });
});
