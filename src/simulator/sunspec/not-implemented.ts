// The registers a SunSpec device serves for a point it leaves out: the encoder's side of the
// "not implemented" values that src/drivers/sunspec/not-implemented.ts recognises (a test holds
// the two together for every type).
import type { SunSpecType } from '../../drivers/sunspec/types.js';

/** `size` registers saying "not implemented" for a point of `type`. */
export function notImplementedRegisters(type: SunSpecType, size: number): number[] {
  const fill = (first: number, rest: number): number[] => Array.from({ length: size }, (_, i) => (i === 0 ? first : rest));
  switch (type) {
    case 'int16':
    case 'int32':
    case 'int64':
    case 'sunssf':
    case 'pad': // padding carries nothing; devices commonly serve 0x8000 there
      return fill(0x8000, 0);
    case 'uint16':
    case 'uint32':
    case 'uint64':
    case 'raw16':
    case 'enum16':
    case 'enum32':
    case 'bitfield16':
    case 'bitfield32':
    case 'bitfield64':
    case 'count':
    case 'eui48':
      return fill(0xffff, 0xffff);
    case 'acc16':
    case 'acc32':
    case 'acc64':
    case 'ipaddr':
    case 'ipv6addr':
    case 'string':
      return fill(0, 0);
    case 'float32':
    case 'float64':
      // A quiet NaN: exponent bits all set, top mantissa bit set.
      return fill(type === 'float32' ? 0x7fc0 : 0x7ff8, 0);
  }
}
