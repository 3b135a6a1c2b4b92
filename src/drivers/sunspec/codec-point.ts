// SunSpec points in terms of the device codec (src/drivers/device/codec.ts), so that integers,
// floats, strings and scaling are decoded by the one codec of the project. SunSpec registers are
// big-endian throughout: high word first, high byte first.
import type { PointConfig, PointType } from '../../config/types.js';
import { pointWidth } from '../../config/point-width.js';
import type { PointDef, SunSpecType } from './types.js';

type CodecNumeric = Exclude<PointType, 'bool' | 'string'>;

/** The codec's raw type for each SunSpec type that is a number on the wire. */
const CODEC_TYPE: Readonly<Record<Exclude<SunSpecType, 'string' | 'ipv6addr'>, CodecNumeric>> = {
  int16: 'int16', sunssf: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint16: 'uint16', raw16: 'uint16', acc16: 'uint16', enum16: 'uint16', bitfield16: 'uint16', count: 'uint16', pad: 'uint16',
  uint32: 'uint32', acc32: 'uint32', enum32: 'uint32', bitfield32: 'uint32', ipaddr: 'uint32',
  // eui48 takes 4 registers; the 48-bit address is in the low 6 bytes.
  uint64: 'uint64', acc64: 'uint64', bitfield64: 'uint64', eui48: 'uint64',
  float32: 'float32',
  float64: 'float64',
};

/** An IPv6 address: 128 bits, 8 registers; formatted here, not by the codec. */
const IPV6_REGISTERS = 8;

/**
 * Registers a SunSpec type occupies, or undefined for `string`, whose size is its own. Taken from
 * the codec's widths so that the two can never disagree.
 */
export function typeWidth(type: SunSpecType): number | undefined {
  if (type === 'string') return undefined;
  if (type === 'ipv6addr') return IPV6_REGISTERS;
  return pointWidth(codecConfig(type, type, 1));
}

const cache = new WeakMap<PointDef, PointConfig>();

/**
 * The codec point for a SunSpec point (address 0: the codec is handed the point's own registers).
 * Undefined for ipv6addr, which the codec has no type for.
 */
export function codecPoint(def: PointDef): PointConfig | undefined {
  if (def.type === 'ipv6addr') return undefined;
  let p = cache.get(def);
  if (p === undefined) {
    p = codecConfig(def.name, def.type, def.size);
    cache.set(def, p);
  }
  return p;
}

function codecConfig(name: string, type: Exclude<SunSpecType, 'ipv6addr'>, size: number): PointConfig {
  const common = { name, table: 'holding', address: 0, wordOrder: 'big', byteOrder: 'big', scale: 1, offset: 0, access: 'read' } as const;
  return type === 'string' ? { ...common, type: 'string', length: size } : { ...common, type: CODEC_TYPE[type] };
}
