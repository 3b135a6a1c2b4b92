// A SunSpec reader written by hand for the simulator tests, independent of src/drivers/sunspec: it
// walks the chain by itself and takes point offsets from the published model tables (SunSpec
// Information Model Reference; offsets below count from the model's ID register: ID is 0, L is 1,
// the first point 2). Registers come from modbus-serial, the independent client.
import type { ModbusClient } from './support.js';

export const SUNS = [0x5375, 0x6e53] as const;

/** Offsets from the model's ID register, written from the specification's tables. */
export const OFFSET = {
  m1: { Mn: 2, Md: 18, Opt: 34, Vr: 42, SN: 50, DA: 66 },
  m103: {
    A: 2, AphA: 3, A_SF: 6, PhVphA: 10, V_SF: 13, W: 14, W_SF: 15, Hz: 16, Hz_SF: 17, WH: 24, WH_SF: 26,
    DCW: 31, DCW_SF: 32, TmpCab: 33, TmpTrns: 35, TmpOt: 36, Tmp_SF: 37, St: 38, StVnd: 39, EvtVnd1: 44, EvtVnd4: 50,
  },
  m120: { DERTyp: 2, WRtg: 3, WRtg_SF: 4, WHRtg: 19, WHRtg_SF: 20, Pad: 27 },
  m121: { WMax: 2, WMax_SF: 22 },
  m123: { Conn: 4, WMaxLimPct: 5, WMaxLimPct_WinTms: 6, WMaxLimPct_RvrtTms: 7, WMaxLim_Ena: 9, WMaxLimPct_SF: 23 },
  m160: { DCW_SF: 4, N: 8, module: 10, moduleSize: 20, ID: 0, IDStr: 1, DCW: 11 },
  m124: { StorCtl_Mod: 5, ChaState: 8, ChaSt: 11, OutWRte: 12, InWRte: 13, InOutWRte_RvrtTms: 15, ChaState_SF: 22, InOutWRte_SF: 25 },
  m802: { WHRtg: 3, SoC: 11, Typ: 21, W: 47, SoC_SF: 56, W_SF: 63 },
} as const;

export interface Header {
  id: number;
  start: number;
  length: number;
}

export async function readHolding(client: ModbusClient, unit: number, address: number, count: number): Promise<number[]> {
  client.setID(unit);
  const out: number[] = [];
  for (let at = address; at < address + count; at += 125) out.push(...(await client.readHoldingRegisters(at, Math.min(125, address + count - at))).data);
  return out;
}

/** Marker check and the walk from it to the end marker: every model's ID, start and L. */
export async function walk(client: ModbusClient, unit: number, base: number): Promise<{ marker: number[]; models: Header[]; end: number }> {
  const marker = await readHolding(client, unit, base, 2);
  const models: Header[] = [];
  let at = base + 2;
  for (let i = 0; i < 50; i++) {
    const [id = 0, length = 0] = await readHolding(client, unit, at, 2);
    if (id === 0xffff) return { marker, models, end: at };
    models.push({ id, start: at, length });
    at += 2 + length;
  }
  throw new Error('no end marker after 50 models');
}

/** A model's registers from its ID register on. */
export async function modelRegisters(client: ModbusClient, unit: number, model: Header): Promise<number[]> {
  return readHolding(client, unit, model.start, 2 + model.length);
}

export function int16(word: number): number {
  return word >= 0x8000 ? word - 0x10000 : word;
}

/** value × 10^sf with the exponent as a signed register. */
export function scaled(raw: number, sfWord: number): number {
  return raw * 10 ** int16(sfWord);
}

export function uint32(regs: readonly number[], at: number): number {
  return (regs[at] ?? 0) * 0x10000 + (regs[at + 1] ?? 0);
}

/** A SunSpec string: two bytes per register, high byte first, NUL-padded. */
export function text(regs: readonly number[], at: number, size: number): string {
  const bytes = regs.slice(at, at + size).flatMap((w) => [w >> 8, w & 0xff]);
  return Buffer.from(bytes).toString('latin1').replace(/\0+$/, '');
}
