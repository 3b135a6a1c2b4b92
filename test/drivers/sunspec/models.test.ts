// Every packaged model definition, loaded as the agent loads it and checked against the rules of
// the SunSpec specification with code of the test's own: declared length = sum of point sizes,
// every scale factor a reachable sunssf point, the models of CONTRACT.md section 6 all there.
import { describe, expect, it } from 'vitest';
import { CONTRACT_MODEL_IDS, defaultModelsDir, loadModelDefinitions, modelDefinition, sunspecModels } from '../../../src/drivers/sunspec/models.js';
import type { GroupBody, ModelDef, PointDef } from '../../../src/drivers/sunspec/types.js';

const models = sunspecModels();

/** Registers of a body; a variable group (fill or count point) counts zero times. */
function registers(body: GroupBody): number {
  let n = 0;
  for (const p of body.points) n += p.size;
  for (const g of body.groups) n += g.count.kind === 'fixed' ? g.count.count * registers(g) : 0;
  return n;
}

/** [point, points visible from it] for every point: its own group's, then the enclosing groups'. */
function* withScope(body: GroupBody, outer: PointDef[] = []): Generator<[PointDef, PointDef[]]> {
  const visible = [...body.points, ...outer];
  for (const p of body.points) yield [p, visible];
  for (const g of body.groups) yield* withScope(g, visible);
}

const WIDTH: Record<string, number> = {
  int16: 1, uint16: 1, acc16: 1, enum16: 1, bitfield16: 1, sunssf: 1, count: 1, pad: 1, raw16: 1,
  int32: 2, uint32: 2, acc32: 2, enum32: 2, bitfield32: 2, float32: 2, ipaddr: 2,
  int64: 4, uint64: 4, acc64: 4, bitfield64: 4, float64: 4, eui48: 4, ipv6addr: 8,
};

describe('packaged SunSpec models', () => {
  it('has every model of CONTRACT.md section 6', () => {
    expect(CONTRACT_MODEL_IDS).toEqual([1, 101, 102, 103, 111, 112, 113, 120, 121, 122, 123, 124, 160, 701, 702, 704, 802]);
    for (const id of CONTRACT_MODEL_IDS) expect(models.has(id), `model ${id}`).toBe(true);
    expect(modelDefinition(103)?.name).toBe('inverter_three_phase');
    expect(modelDefinition(64999)).toBeUndefined();
  });

  it('is loaded once per process', () => {
    expect(sunspecModels()).toBe(models);
    // A fresh load of the same folder gives equal definitions.
    expect(loadModelDefinitions(defaultModelsDir())).toEqual(models);
  });

  describe.each([...models.values()].map((m): [number, ModelDef] => [m.id, m]))('model %i', (_id, model) => {
    it('declares the length its points add up to', () => {
      expect(registers(model)).toBe(model.length);
    });

    it('gives each point the size of its type', () => {
      for (const [p] of withScope(model)) {
        if (p.type === 'string') expect(p.size).toBeGreaterThan(0);
        else expect(p.size, p.name).toBe(WIDTH[p.type]);
      }
    });

    it('scales points only by sunssf points reachable from them', () => {
      for (const [p, visible] of withScope(model)) {
        if (typeof p.sf !== 'string') continue;
        const target = visible.find((v) => v.name === p.sf);
        expect(target?.type, `${p.name} sf ${p.sf}`).toBe('sunssf');
      }
    });
  });

  // Facts of the published specification the next steps rely on (offsets from the first point after ID and L).
  it.each([
    [1, 'Mn', 0, 16], [1, 'SN', 48, 16], [1, 'DA', 64, 1],
    [103, 'W', 12, 1], [103, 'W_SF', 13, 1], [103, 'WH', 22, 2], [103, 'St', 36, 1],
    [113, 'W', 20, 2],
    [120, 'WRtg', 1, 1],
    [121, 'WMax', 0, 1], [121, 'WMax_SF', 20, 1],
    [123, 'WMaxLimPct', 3, 1], [123, 'WMaxLimPct_RvrtTms', 5, 1], [123, 'WMaxLim_Ena', 7, 1], [123, 'WMaxLimPct_SF', 21, 1],
    [124, 'StorCtl_Mod', 3, 1], [124, 'OutWRte', 10, 1], [124, 'InWRte', 11, 1], [124, 'InOutWRte_RvrtTms', 13, 1], [124, 'InOutWRte_SF', 23, 1],
    [704, 'WMaxLimPctEna', 12, 1], [704, 'WMaxLimPct', 13, 1], [704, 'WMaxLimPctRvrtTms', 16, 2], [704, 'WMaxLimPct_SF', 52, 1],
    [802, 'SoC', 9, 1], [802, 'SoC_SF', 54, 1],
  ])('model %i point %s is at offset %i, %i register(s)', (id, name, offset, size) => {
    const model = models.get(id);
    expect(model).toBeDefined();
    let at = 0;
    for (const p of model?.points ?? []) {
      if (p.name === name) {
        expect([at, p.size]).toEqual([offset, size]);
        return;
      }
      at += p.size;
    }
    throw new Error(`no top-level point ${name} in model ${id}`);
  });
});
