// The value of one SunSpec point from its registers: the not-implemented encodings become null, the
// scale factor is applied (value = raw × 10^sf), and the numbers and strings themselves are decoded
// by the device codec, exactly as for profile points (2301 × 10^-1 gives 230.1).
import { CodecError } from '../errors.js';
import { decodePoint } from '../device/codec.js';
import { codecPoint } from './codec-point.js';
import { isNotImplemented } from './not-implemented.js';
import type { PointDef } from './types.js';

/** A published SunSpec value: a number, a text (strings and addresses), or null for "not implemented". */
export type SunSpecValue = number | string | null;

/**
 * The engineering value of a point; `regs[0]` is its first register. `sfExponent` is the value of
 * the sunssf point its `sf` names (null when that scale factor is not implemented, which makes the
 * value null too); it is not needed for a point without `sf` or with a literal one. Throws
 * CodecError: BAD_RESPONSE (too few registers, a register that is not 16-bit), POINT_INVALID (the
 * scale factor of a point with a named sf was not given).
 */
export function decodeValue(def: PointDef, regs: ArrayLike<number>, sfExponent?: number | null): SunSpecValue {
  if (regs.length < def.size) {
    throw new CodecError('BAD_RESPONSE', def.name, `Point ${def.name}: needs ${def.size} register(s), got ${regs.length}`);
  }
  if (isNotImplemented(def.type, regs, def.size)) return null;
  const exponent = exponentOf(def, sfExponent);
  if (exponent === null) return null;
  switch (def.type) {
    case 'ipaddr':
      return ipv4(words(def, regs));
    case 'ipv6addr':
      return ipv6(words(def, regs));
    case 'eui48':
      return eui48(words(def, regs));
    default: {
      const p = codecPoint(def);
      if (p === undefined) throw new CodecError('POINT_INVALID', def.name, `Point ${def.name}: no codec for type ${def.type}`);
      const value = decodePoint(p, regs, exponent);
      if (typeof value === 'boolean') throw new CodecError('POINT_INVALID', def.name, `Point ${def.name}: decoded to a boolean`);
      return value;
    }
  }
}

function exponentOf(def: PointDef, sfExponent: number | null | undefined): number | null {
  if (def.sf === undefined) return 0;
  if (typeof def.sf === 'number') return def.sf;
  if (sfExponent === undefined) {
    throw new CodecError('POINT_INVALID', def.name, `Point ${def.name}: the value of its scale factor ${def.sf} is needed`);
  }
  return sfExponent;
}

/** The point's registers, each checked to be a 16-bit value. */
function words(def: PointDef, regs: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 0; i < def.size; i++) {
    const w = regs[i];
    if (w === undefined || !Number.isInteger(w) || w < 0 || w > 0xffff) {
      throw new CodecError('BAD_RESPONSE', def.name, `Point ${def.name}: register ${i} is not a 16-bit value: ${String(w)}`);
    }
    out.push(w);
  }
  return out;
}

/** `192.168.1.10`: 2 registers, most significant byte first. */
function ipv4([a = 0, b = 0]: number[]): string {
  return [a >> 8, a & 0xff, b >> 8, b & 0xff].join('.');
}

/** `2001:db8:0:0:0:0:0:1`: 8 registers, one group each (never shortened: one text for one address). */
function ipv6(regs: number[]): string {
  return regs.map((w) => w.toString(16)).join(':');
}

/** `00:1a:2b:3c:4d:5e`: the low 48 bits of 4 registers. */
function eui48(regs: number[]): string {
  return regs
    .slice(1)
    .flatMap((w) => [w >> 8, w & 0xff])
    .map((byte) => byte.toString(16).padStart(2, '0'))
    .join(':');
}
