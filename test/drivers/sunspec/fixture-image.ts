// SunSpec register images laid out by the tests' own hand: the "SunS" marker, model headers and
// point values written register by register at offsets counted from the published SunSpec model
// tables (the offsets below are hard-coded facts, deliberately not taken from sunspec/models/ or
// from the project's layout and encoder). Offsets count from the first register after ID and L.
import type { FixtureUnit } from './fixture-server.js';

export const SUNS = [0x5375, 0x6e53] as const;
export const NOT_IMPLEMENTED = { int16: 0x8000, uint16: 0xffff, sunssf: 0x8000 } as const;

/** Model lengths (L) and point offsets used by the tests. */
export const M1 = { L: 66, Mn: 0, Md: 16, Opt: 32, Vr: 40, SN: 48, DA: 64 } as const;
export const M103 = {
  L: 50, A: 0, AphA: 1, AphB: 2, AphC: 3, A_SF: 4, PhVphA: 8, PhVphB: 9, PhVphC: 10, V_SF: 11, W: 12, W_SF: 13, Hz: 14, Hz_SF: 15,
  VA: 16, VA_SF: 17, VAr: 18, VAr_SF: 19, WH: 22, WH_SF: 24, DCW: 29, DCW_SF: 30, TmpCab: 31, TmpSnk: 32, Tmp_SF: 35, St: 36,
} as const;
export const M120 = { L: 26, DERTyp: 0, WRtg: 1, WRtg_SF: 2 } as const;
export const M121 = { L: 30, WMax: 0, WMax_SF: 20 } as const;
export const M123 = { L: 24, Conn: 2, WMaxLimPct: 3, WMaxLimPct_RvrtTms: 5, WMaxLim_Ena: 7, WMaxLimPct_SF: 21 } as const;
export const M124 = {
  L: 24, WChaMax: 0, StorCtl_Mod: 3, ChaState: 6, InBatV: 8, OutWRte: 10, InWRte: 11, InOutWRte_RvrtTms: 13,
  WChaMax_SF: 16, ChaState_SF: 20, InBatV_SF: 22, InOutWRte_SF: 23,
} as const;
/** Fixed part 8 registers, then 20 per module; module offsets count from the module's first register. */
export const M160 = { fixed: 8, module: 20, DCA_SF: 0, DCV_SF: 1, DCW_SF: 2, DCWH_SF: 3, N: 6, ID: 0, IDStr: 1, DCA: 9, DCV: 10, DCW: 11, DCWH: 12 } as const;
export const M701 = { L: 153, InvSt: 2, ConnSt: 3, W: 8, VA: 9, Var: 10, Hz: 15, TotWhInj: 17, AL1: 43, VL1: 45, Hz_SF: 113, W_SF: 114, TotWh_SF: 118 } as const;
export const M704 = { L: 65, WMaxLimPctEna: 12, WMaxLimPct: 13, WMaxLimPctRvrt: 14, WMaxLimPctRvrtTms: 16, WMaxLimPct_SF: 52 } as const;
export const M802 = { L: 62, SoC: 9, SoH: 11, V: 32, SoC_SF: 54, SoH_SF: 56, V_SF: 57 } as const;

/** Writes the registers of one model instance. */
export class ModelWriter {
  constructor(
    private readonly unit: FixtureUnit,
    /** Address of the model's ID register. */
    readonly start: number,
  ) {}

  /** Address of the register `offset` after ID and L. */
  at(offset: number): number {
    return this.start + 2 + offset;
  }

  u16(offset: number, value: number): this {
    this.unit.set(this.at(offset), [value & 0xffff]);
    return this;
  }

  /** Two's complement in one register. */
  i16(offset: number, value: number): this {
    return this.u16(offset, value < 0 ? 0x10000 + value : value);
  }

  /** High word first. */
  u32(offset: number, value: number): this {
    this.unit.set(this.at(offset), [Math.floor(value / 0x10000) & 0xffff, value & 0xffff]);
    return this;
  }

  /** ASCII, two characters per register, first character in the high byte, NUL-padded. */
  text(offset: number, size: number, s: string): this {
    const bytes = Buffer.alloc(size * 2);
    bytes.write(s, 'ascii');
    for (let i = 0; i < size; i++) this.unit.set(this.at(offset + i), [bytes.readUInt16BE(2 * i)]);
    return this;
  }
}

/** A chain of models from a base address. */
export class SunSpecImage {
  private next: number;

  constructor(
    private readonly unit: FixtureUnit,
    readonly base: number,
  ) {
    unit.set(base, [...SUNS]);
    this.next = base + 2;
  }

  /** Address the next model (or the end marker) goes to. */
  get address(): number {
    return this.next;
  }

  /** A model with `length` registers after ID and L, all 0 until `fill` sets them. */
  model(id: number, length: number, fill: (w: ModelWriter) => void = () => undefined): ModelWriter {
    const w = new ModelWriter(this.unit, this.next);
    this.unit.set(this.next, [id, length, ...new Array<number>(length).fill(0)]);
    this.next += 2 + length;
    fill(w);
    return w;
  }

  end(): this {
    this.unit.set(this.next, [0xffff, 0]);
    return this;
  }

  // ---- the models of a typical device, with plausible values ----------------------------------

  common(serial: string, model = 'Inverter 10k'): ModelWriter {
    return this.model(1, M1.L, (w) => w.text(M1.Mn, 16, 'Fixture Solar').text(M1.Md, 16, model).text(M1.Vr, 8, '1.0.0').text(M1.SN, 16, serial).u16(M1.DA, 1));
  }

  /** Three-phase inverter: 4520 W (452 × 10^1), 230.1 V, 6.54 A, 50.01 Hz, 1234567 Wh, MPPT. */
  inverter103(): ModelWriter {
    return this.model(103, M103.L, (w) =>
      w
        .u16(M103.A, 1962).u16(M103.AphA, 654).u16(M103.AphB, 655).u16(M103.AphC, 653).i16(M103.A_SF, -2)
        .u16(M103.PhVphA, 2301).u16(M103.PhVphB, 2299).u16(M103.PhVphC, 2305).i16(M103.V_SF, -1)
        .i16(M103.W, 452).i16(M103.W_SF, 1)
        .u16(M103.Hz, 5001).i16(M103.Hz_SF, -2)
        .i16(M103.VA, NOT_IMPLEMENTED.int16).i16(M103.VA_SF, NOT_IMPLEMENTED.sunssf)
        .i16(M103.VAr, 12).i16(M103.VAr_SF, 0)
        .u32(M103.WH, 1234567).i16(M103.WH_SF, 0)
        .i16(M103.DCW, 4700).i16(M103.DCW_SF, 0)
        .i16(M103.TmpCab, 412).u16(M103.TmpSnk, NOT_IMPLEMENTED.int16).i16(M103.Tmp_SF, -1)
        .u16(M103.St, 4),
    );
  }

  nameplate120(): ModelWriter {
    return this.model(120, M120.L, (w) => w.u16(M120.DERTyp, 4).u16(M120.WRtg, 10000).i16(M120.WRtg_SF, 0));
  }

  settings121(): ModelWriter {
    return this.model(121, M121.L, (w) => w.u16(M121.WMax, 10000).i16(M121.WMax_SF, 0));
  }

  /** No limit in force; WMaxLimPct in 0.1 % steps (SF -1), set to 100.0 %. */
  controls123(): ModelWriter {
    return this.model(123, M123.L, (w) => w.u16(M123.Conn, 1).u16(M123.WMaxLimPct, 1000).u16(M123.WMaxLim_Ena, 0).i16(M123.WMaxLimPct_SF, -1));
  }

  /** Neither charge nor discharge limited; rates in 0.01 % steps (SF -2). */
  storage124(): ModelWriter {
    return this.model(124, M124.L, (w) =>
      w
        .u16(M124.WChaMax, 5000).i16(M124.WChaMax_SF, 0).u16(M124.StorCtl_Mod, 0)
        .u16(M124.ChaState, 655).i16(M124.ChaState_SF, -1).u16(M124.InBatV, 512).i16(M124.InBatV_SF, -1)
        .i16(M124.OutWRte, 10000).i16(M124.InWRte, 10000).i16(M124.InOutWRte_SF, -2),
    );
  }

  /** Model 160 with `modules` modules: module n at n × 1000 W (SF 0), 600 V, id n, name PVn. */
  mppt160(modules: number): ModelWriter {
    return this.model(160, M160.fixed + M160.module * modules, (w) => {
      w.i16(M160.DCA_SF, -1).i16(M160.DCV_SF, 0).i16(M160.DCW_SF, 0).i16(M160.DCWH_SF, 0).u16(M160.N, modules);
      for (let n = 1; n <= modules; n++) {
        const m = M160.fixed + M160.module * (n - 1);
        w.u16(m + M160.ID, n).text(m + M160.IDStr, 8, `PV${n}`).u16(m + M160.DCA, 15 * n).u16(m + M160.DCV, 600).u16(m + M160.DCW, 1000 * n).u32(m + M160.DCWH, 5000 * n);
      }
    });
  }

  /** DER measurements: 3000 W, 50.02 Hz (SF -2), running, connected. */
  measure701(): ModelWriter {
    return this.model(701, M701.L, (w) =>
      w.u16(M701.InvSt, 3).u16(M701.ConnSt, 1).i16(M701.W, 3000).i16(M701.W_SF, 0).u32(M701.Hz, 5002).i16(M701.Hz_SF, -2).i16(M701.TotWh_SF, 0),
    );
  }

  /** DER controls: no limit in force, WMaxLimPct whole percent (SF 0). */
  controls704(): ModelWriter {
    return this.model(704, M704.L, (w) => w.u16(M704.WMaxLimPctEna, 0).u16(M704.WMaxLimPct, 100).u16(M704.WMaxLimPctRvrt, 100).i16(M704.WMaxLimPct_SF, 0));
  }

  /** Battery: 65.5 % SoC (SF -1), 98 % SoH (SF 0), 51.2 V (SF -1). */
  battery802(): ModelWriter {
    return this.model(802, M802.L, (w) => w.u16(M802.SoC, 655).i16(M802.SoC_SF, -1).u16(M802.SoH, 98).i16(M802.SoH_SF, 0).u16(M802.V, 512).i16(M802.V_SF, -1));
  }
}
