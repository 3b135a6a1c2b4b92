// Register layout and published names of model instances, from the packaged definitions and from
// small definitions written here, checked against addresses counted by hand from the specification.
import { describe, expect, it } from 'vitest';
import { SunSpecDataError } from '../../../src/drivers/sunspec/errors.js';
import { layoutModel, type ModelLayout } from '../../../src/drivers/sunspec/layout.js';
import { modelDefinition } from '../../../src/drivers/sunspec/models.js';
import { groupSegment, sunspecPointName } from '../../../src/drivers/sunspec/naming.js';
import type { GroupDef, ModelDef } from '../../../src/drivers/sunspec/types.js';
import { modelFromYaml } from './model-fixtures.js';

function model(id: number): ModelDef {
  const def = modelDefinition(id);
  if (def === undefined) throw new Error(`no model ${id}`);
  return def;
}

function point(layout: ModelLayout, name: string): { address: number; sf?: string | number } {
  const p = layout.points.find((q) => q.name === name);
  if (p === undefined) throw new Error(`no point ${name}`);
  return p.sf === undefined ? { address: p.address } : { address: p.address, sf: p.sf };
}

function dataError(fn: () => unknown): SunSpecDataError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SunSpecDataError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('point names', () => {
  it.each([
    [103, [], 'W', 'm103_W'],
    [123, [], 'WMaxLimPct', 'm123_WMaxLimPct'],
    [160, [2], 'DCW', 'm160_2_DCW'],
    [704, ['PFWInj'], 'PF', 'm704_PFWInj_PF'],
    [705, [1, 'Pt', 3], 'V', 'm705_1_Pt_3_V'],
  ])('model %i, path %j, point %s: %s', (id, path, p, expected) => {
    expect(sunspecPointName(id, path, p)).toBe(expected);
  });

  it('takes the instance number of a repeating group and the name of a group that occurs once', () => {
    const group = (count: GroupDef['count']): GroupDef => ({ name: 'g', count, sync: false, points: [], groups: [] });
    expect(groupSegment(group({ kind: 'fixed', count: 1 }), 1)).toBe('g');
    expect(groupSegment(group({ kind: 'fixed', count: 3 }), 2)).toBe(2);
    expect(groupSegment(group({ kind: 'fill' }), 1)).toBe(1);
    expect(groupSegment(group({ kind: 'point', point: 'N' }), 4)).toBe(4);
  });
});

describe('layout of the packaged models', () => {
  it('puts model 103 at its address with the points in order', () => {
    // SunS at 40000, model 1 at 40002 (66 long), model 103 at 40070.
    const layout = layoutModel(model(103), { start: 40070, length: 50 });
    expect(layout.points[0]).toMatchObject({ name: 'm103_A', address: 40072, sf: 'm103_A_SF' });
    expect(point(layout, 'm103_W')).toEqual({ address: 40084, sf: 'm103_W_SF' });
    expect(point(layout, 'm103_W_SF')).toEqual({ address: 40085 });
    expect(point(layout, 'm103_WH')).toEqual({ address: 40094, sf: 'm103_WH_SF' });
    const last = layout.points.at(-1);
    expect(last?.name).toBe('m103_EvtVnd4');
    expect((last?.address ?? 0) + (last?.def.size ?? 0)).toBe(40070 + 2 + 50);
  });

  it('repeats the modules of model 160 to fill its length, scaled by the model-level factors', () => {
    const layout = layoutModel(model(160), { start: 100, length: 8 + 3 * 20 });
    const modules = [1, 2, 3].map((n) => point(layout, `m160_${n}_DCW`));
    // Fixed part: 8 registers after ID and L (102..109); module n starts at 110 + 20 (n - 1); DCW is
    // at offset 11 in it (ID 1, IDStr 8, DCA 1, DCV 1), DCWH at 12.
    expect(modules).toEqual([
      { address: 121, sf: 'm160_DCW_SF' },
      { address: 141, sf: 'm160_DCW_SF' },
      { address: 161, sf: 'm160_DCW_SF' },
    ]);
    expect(point(layout, 'm160_3_DCWH')).toEqual({ address: 162, sf: 'm160_DCWH_SF' });
    expect(point(layout, 'm160_N')).toEqual({ address: 108 }); // after 4 SFs and the 2-register Evt
    expect(layout.points.some((p) => p.name.startsWith('m160_4_'))).toBe(false);
  });

  it('lays out model 160 without modules', () => {
    const layout = layoutModel(model(160), { start: 100, length: 8 });
    expect(layout.points.map((p) => p.name)).toEqual(['m160_DCA_SF', 'm160_DCV_SF', 'm160_DCW_SF', 'm160_DCWH_SF', 'm160_Evt', 'm160_N', 'm160_TmsPer']);
  });

  it('names the points of model 704 groups that occur once by the group, scaled by the model-level PF_SF', () => {
    const layout = layoutModel(model(704), { start: 0, length: 65 });
    expect(point(layout, 'm704_PFWInj_PF')).toEqual({ address: 59, sf: 'm704_PF_SF' });
    expect(point(layout, 'm704_PFWInj_Ext')).toEqual({ address: 60 });
    expect(point(layout, 'm704_PFWAbsRvrt_Ext')).toEqual({ address: 66 });
    expect(point(layout, 'm704_WMaxLimPct')).toEqual({ address: 15, sf: 'm704_WMaxLimPct_SF' });
  });

  it('accepts model 1 without its trailing pad (length 65), and drops the pad', () => {
    const layout = layoutModel(model(1), { start: 40002, length: 65 });
    expect(layout.points.at(-1)?.name).toBe('m1_DA');
    expect(layoutModel(model(1), { start: 40002, length: 66 }).points.at(-1)?.name).toBe('m1_Pad');
  });

  it.each([
    [103, 48, 'model 103 at 40070: the device says length 48, but the definition'],
    [103, 52, 'model 103 at 40070: the device says length 52, but the definition'],
    [1, 64, 'model 1 at 40070: the device says length 64, but the definition'],
    [160, 8 + 20 + 7, 'model 160 at 40070: the device says length 35, but the fixed part is 8 and each module adds 20'],
    [160, 5, 'model 160 at 40070: the device says length 5, but the fixed part is 8 and each module adds 20'],
  ])('refuses model %i with length %i', (id, length, message) => {
    const err = dataError(() => layoutModel(model(id), { start: 40070, length }));
    expect(err.code).toBe('LENGTH_MISMATCH');
    expect(err.model).toBe(id);
    expect(err.message).toContain(message);
  });

  it('refuses a model running past register 65535', () => {
    expect(layoutModel(model(103), { start: 65535 - 51, length: 50 }).points.length).toBeGreaterThan(0);
    const err = dataError(() => layoutModel(model(103), { start: 65535 - 50, length: 50 }));
    expect(err.code).toBe('ADDRESS_OVERFLOW');
  });
});

describe('groups counted by a count point', () => {
  // A curve model in the manner of the 7xx curve models: NCrv curves of NPt points each.
  const curves = modelFromYaml(
    64910,
    `id: 64910
name: curves
length: 3
points:
  - { name: NCrv, type: count, size: 1 }
  - { name: NPt, type: count, size: 1 }
  - { name: V_SF, type: sunssf, size: 1 }
groups:
  - name: crv
    countPoint: NCrv
    points:
      - { name: ActPt, type: uint16, size: 1 }
      - { name: Ofs_SF, type: sunssf, size: 1 }
    groups:
      - name: pt
        countPoint: NPt
        points:
          - { name: V, type: uint16, size: 1, sf: V_SF }
          - { name: Ofs, type: int16, size: 1, sf: Ofs_SF }
`,
  );
  // registers[i] is at start + i: ID, L, NCrv, NPt, V_SF, then the curves.
  const header = (nCrv: number, nPt: number, length: number): number[] => [64910, length, nCrv, nPt, 0];

  it('reads the counts from the registers and numbers each instance', () => {
    const length = 3 + 2 * (2 + 3 * 2);
    const layout = layoutModel(curves, { start: 1000, length, registers: header(2, 3, length) });
    expect(layout.points).toHaveLength(3 + 2 * (2 + 3 * 2));
    expect(point(layout, 'm64910_1_ActPt')).toEqual({ address: 1005 });
    expect(point(layout, 'm64910_1_3_V')).toEqual({ address: 1011, sf: 'm64910_V_SF' });
    // Nested repeating groups: curve number, then point number, each 1-based; sf found in the curve, then the model.
    expect(point(layout, 'm64910_2_3_Ofs')).toEqual({ address: 1000 + 5 + 8 + 2 + 5, sf: 'm64910_2_Ofs_SF' });
    expect(point(layout, 'm64910_2_3_V')).toEqual({ address: 1000 + 5 + 8 + 2 + 4, sf: 'm64910_V_SF' });
  });

  it('needs the registers of the count point', () => {
    const err = dataError(() => layoutModel(curves, { start: 1000, length: 3 }));
    expect(err.code).toBe('COUNT_INVALID');
    expect(err.message).toContain('count point m64910_NCrv');
  });

  it('refuses a count that is not implemented', () => {
    const err = dataError(() => layoutModel(curves, { start: 1000, length: 3, registers: header(0xffff, 1, 3) }));
    expect(err.code).toBe('COUNT_INVALID');
    expect(err.message).toContain('count point m64910_NCrv is 65535');
  });

  it('refuses a count that does not fit the length before laying anything out', () => {
    const err = dataError(() => layoutModel(curves, { start: 1000, length: 3, registers: header(60000, 1, 3) }));
    expect(err.code).toBe('COUNT_INVALID');
    expect(err.message).toContain('says 60000 of 2 registers, more than the 0 left');
  });

  it('refuses counts that leave registers over', () => {
    const err = dataError(() => layoutModel(curves, { start: 1000, length: 20, registers: header(1, 1, 20) }));
    expect(err.code).toBe('LENGTH_MISMATCH');
  });
});
