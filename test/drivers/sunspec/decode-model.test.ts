// Whole model instances decoded from registers that this test lays out with its own hand, from the
// offsets of the SunSpec specification (not with the project's layout or encoder).
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../../../src/drivers/sunspec/decode-model.js';
import { SunSpecDataError } from '../../../src/drivers/sunspec/errors.js';
import { layoutModel } from '../../../src/drivers/sunspec/layout.js';
import { modelDefinition } from '../../../src/drivers/sunspec/models.js';
import type { ModelDef } from '../../../src/drivers/sunspec/types.js';

function model(id: number): ModelDef {
  const def = modelDefinition(id);
  if (def === undefined) throw new Error(`no model ${id}`);
  return def;
}

/** The registers of a model: ID, L, then `length` registers (zero unless set). */
class Image {
  readonly regs: number[];
  constructor(id: number, length: number) {
    this.regs = [id, length, ...new Array<number>(length).fill(0)];
  }
  /** Sets registers at `offset` from the first point after ID and L. */
  set(offset: number, ...words: number[]): this {
    words.forEach((w, i) => (this.regs[2 + offset + i] = w & 0xffff));
    return this;
  }
  text(offset: number, size: number, s: string): this {
    const bytes = [...Buffer.from(s, 'ascii'), ...new Array<number>(size * 2).fill(0)];
    for (let i = 0; i < size; i++) this.set(offset + i, ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
    return this;
  }
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

describe('model 103', () => {
  // Offsets after ID and L: A 0, AphA 1, AphB 2, AphC 3, A_SF 4, PhVphA 8, V_SF 11, W 12, W_SF 13,
  // Hz 14, Hz_SF 15, VA 16, VA_SF 17, WH 22-23, WH_SF 24, St 36, StVnd 37, Evt1 38-39.
  const image = (): Image =>
    new Image(103, 50)
      .set(0, 1234).set(1, 1234).set(2, 0xffff).set(4, -2)
      .set(8, 2301).set(11, -1)
      .set(12, -1234).set(13, 1)
      .set(14, 5001).set(15, -2)
      .set(16, 100).set(17, 0x8000)
      .set(22, 0x0001, 0x0000).set(24, 0)
      .set(36, 4)
      .set(38, 0x0000, 0x0004);
  const layout = layoutModel(model(103), { start: 40070, length: 50 });

  it('applies the scale factors, positive and negative', () => {
    const values = decodeModel(layout, image().regs);
    expect(values).toMatchObject({
      m103_A: 12.34,
      m103_AphA: 12.34,
      m103_A_SF: -2,
      m103_PhVphA: 230.1,
      m103_W: -12340,
      m103_W_SF: 1,
      m103_Hz: 50.01,
      m103_WH: 65536,
      m103_St: 4,
      m103_Evt1: 4,
    });
  });

  it('publishes not-implemented values and values of a not-implemented scale factor as null', () => {
    const values = decodeModel(layout, image().regs);
    expect(values.m103_AphB).toBeNull(); // uint16 0xFFFF
    expect(values.m103_VA_SF).toBeNull(); // sunssf 0x8000 ...
    expect(values.m103_VA).toBeNull(); // ... so VA = 100 × 10^? is not known
  });

  it('publishes every point but no other, in address order', () => {
    const values = decodeModel(layout, image().regs);
    expect(Object.keys(values)).toEqual(layout.points.map((p) => p.name));
    expect(Object.keys(values)).toHaveLength(43); // the 45 points of the specification less ID and L
  });

  it('refuses a scale factor outside -10..10', () => {
    const err = dataError(() => decodeModel(layout, image().set(13, 11).regs));
    expect([err.code, err.model]).toEqual(['SCALE_FACTOR_OUT_OF_RANGE', 103]);
    expect(err.message).toBe('model 103: scale factor m103_W_SF is 11, not an integer from -10 to 10');
  });

  it('refuses registers whose ID and L are not the ones discovered', () => {
    const moved = image();
    moved.regs[0] = 101;
    expect(dataError(() => decodeModel(layout, moved.regs)).code).toBe('HEADER_MISMATCH');
    const longer = image();
    longer.regs[1] = 52;
    expect(dataError(() => decodeModel(layout, longer.regs)).code).toBe('HEADER_MISMATCH');
  });

  it('refuses too few registers', () => {
    expect(dataError(() => decodeModel(layout, image().regs.slice(0, 51))).code).toBe('SHORT_REGISTERS');
  });
});

describe('model 160 with two modules', () => {
  // Fixed part: DCA_SF 0, DCV_SF 1, DCW_SF 2, DCWH_SF 3, Evt 4-5, N 6, TmsPer 7. Module n at
  // 8 + 20 (n - 1): ID 0, IDStr 1-8, DCA 9, DCV 10, DCW 11, DCWH 12-13, Tms 14-15, Tmp 16, DCSt 17, DCEvt 18-19.
  const m = (n: number, offset: number): number => 8 + 20 * (n - 1) + offset;
  const regs = new Image(160, 48)
    .set(0, -1).set(1, -1).set(2, 0).set(3, 3).set(6, 2)
    .set(m(1, 0), 1).text(m(1, 1), 8, 'PV1').set(m(1, 9), 85).set(m(1, 10), 6120).set(m(1, 11), 520).set(m(1, 12), 0, 1234).set(m(1, 16), -5)
    .set(m(2, 0), 2).text(m(2, 1), 8, 'PV2').set(m(2, 9), 0xffff).set(m(2, 10), 5990).set(m(2, 11), 1500).set(m(2, 12), 0, 0).set(m(2, 17), 4).regs;

  it('decodes each module under its own number, scaled by the model-level factors', () => {
    const values = decodeModel(layoutModel(model(160), { start: 40200, length: 48 }), regs);
    expect(values).toMatchObject({
      m160_N: 2,
      m160_1_ID: 1, m160_1_IDStr: 'PV1', m160_1_DCA: 8.5, m160_1_DCV: 612, m160_1_DCW: 520, m160_1_DCWH: 1234000, m160_1_Tmp: -5,
      m160_2_ID: 2, m160_2_IDStr: 'PV2', m160_2_DCA: null, m160_2_DCV: 599, m160_2_DCW: 1500, m160_2_DCWH: null, m160_2_DCSt: 4,
    });
  });
});

describe('model 1', () => {
  it('publishes the strings and leaves the pad out', () => {
    const regs = new Image(1, 66).text(0, 16, 'SunSpecTest').text(16, 16, 'Inverter 10k').text(40, 8, '1.2.3').text(48, 16, 'SN-0042').set(64, 1).set(65, 0x8000).regs;
    const values = decodeModel(layoutModel(model(1), { start: 40002, length: 66 }), regs);
    expect(values).toEqual({ m1_Mn: 'SunSpecTest', m1_Md: 'Inverter 10k', m1_Opt: null, m1_Vr: '1.2.3', m1_SN: 'SN-0042', m1_DA: 1 });
  });
});
