// The engineering values of one simulated device and their encoding into its register bank, by the
// point definitions of the config (overrides included), with the same codec the agent decodes with:
// a client reading the documented registers gets exactly what `served()` says.
import type { PointConfig, PointValue } from '../config/types.js';
import { pointWidth } from '../config/point-width.js';
import { decodePoint, encodePoint, INTEGER_RANGES } from '../drivers/device/codec.js';
import { CodecError } from '../drivers/errors.js';
import type { PointIO } from './models/model.js';
import type { RegisterBank } from './register-bank.js';

/** SunSpec exponents are small; anything else in a scale-factor register is treated as 0. */
const MAX_SF_EXPONENT = 20;

export class PointValues implements PointIO {
  private readonly points = new Map<string, PointConfig>();
  /** Scale-factor points first, so that the points using them encode with the exponent just stored. */
  private readonly order: PointConfig[];
  /** Points by the name of the scale-factor point they use. */
  private readonly dependents = new Map<string, PointConfig[]>();
  /** Model-side values, unquantised (the bank holds them rounded to each point's raw type). */
  private readonly values = new Map<string, PointValue>();
  /** What each point's registers were last encoded from, so unchanged values are not re-encoded. */
  private readonly encoded = new Map<string, { value: PointValue; sf: number }>();
  /** Points a test has set: the model no longer changes them. */
  private readonly pinned = new Set<string>();

  constructor(
    points: readonly PointConfig[],
    private readonly bank: RegisterBank,
    private readonly onEncodeError: (p: PointConfig, err: CodecError) => void,
  ) {
    for (const p of points) {
      this.points.set(p.name, p);
      if (p.scaleFactor !== undefined) {
        const list = this.dependents.get(p.scaleFactor) ?? [];
        list.push(p);
        this.dependents.set(p.scaleFactor, list);
      }
    }
    this.order = [...points].sort((a, b) => Number(this.dependents.has(b.name)) - Number(this.dependents.has(a.name)));
  }

  /** Names used as `scaleFactor` by some point of this device. */
  scaleFactorNames(): ReadonlySet<string> {
    return new Set(this.dependents.keys());
  }

  has(name: string): boolean {
    return this.points.has(name);
  }

  point(name: string): PointConfig | undefined {
    return this.points.get(name);
  }

  num(name: string): number | undefined {
    const v = this.values.get(name);
    return typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : undefined;
  }

  bool(name: string): boolean | undefined {
    const v = this.values.get(name);
    return typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : undefined;
  }

  /** The model's way in: skipped for unknown and pinned points. */
  set(name: string, value: PointValue): void {
    if (this.points.has(name) && !this.pinned.has(name)) this.values.set(name, value);
  }

  /** A test's way in: sets and pins the point (the model leaves it alone until `release`). */
  pin(name: string, value: PointValue): void {
    const p = this.require(name);
    // Fail now, with the codec's typed error, rather than at the next sync.
    encodePoint(p, value, this.sfExponent(p), this.bank.get(p.table, p.address));
    this.values.set(name, value);
    this.pinned.add(name);
  }

  release(name: string): void {
    this.require(name);
    this.pinned.delete(name);
  }

  /** The value a client reading the point's registers gets now. */
  served(name: string): PointValue {
    const p = this.require(name);
    return decodePoint(p, this.registersOf(p), this.sfExponent(p));
  }

  registersOf(p: PointConfig): number[] {
    return this.bank.read(p.table, p.address, pointWidth(p));
  }

  /** Exponent for `p` from the scale-factor register as served (0 without one). */
  sfExponent(p: PointConfig): number {
    if (p.scaleFactor === undefined) return 0;
    const sfPoint = this.points.get(p.scaleFactor);
    if (sfPoint === undefined) return 0;
    const sf = decodePoint(sfPoint, this.registersOf(sfPoint), 0);
    return typeof sf === 'number' && Number.isInteger(sf) && Math.abs(sf) <= MAX_SF_EXPONENT ? sf : 0;
  }

  /** Encodes every value that changed since it was last encoded into the bank. */
  sync(): void {
    for (const p of this.order) {
      const value = this.values.get(p.name);
      if (value === undefined) continue;
      const sf = this.sfExponent(p);
      const last = this.encoded.get(p.name);
      if (last !== undefined && Object.is(last.value, value) && last.sf === sf) continue;
      try {
        this.bank.write(p.table, p.address, this.encodeSaturating(p, value, sf));
        this.encoded.set(p.name, { value, sf });
      } catch (err) {
        if (!(err instanceof CodecError)) throw err;
        this.encoded.set(p.name, { value, sf }); // report once per value, not on every tick
        this.onEncodeError(p, err);
      }
    }
  }

  /**
   * After a client wrote registers: the values of `written` points (and of the points scaled by them)
   * become what their registers now decode to, and count as encoded.
   */
  absorb(written: readonly PointConfig[]): void {
    const affected = new Set<PointConfig>(written);
    for (const p of written) for (const d of this.dependents.get(p.name) ?? []) affected.add(d);
    for (const p of affected) {
      const value = this.served(p.name);
      this.values.set(p.name, value);
      this.encoded.set(p.name, { value, sf: this.sfExponent(p) });
    }
  }

  /** Like a real device, an output beyond what its register can hold saturates at the raw limit. */
  private encodeSaturating(p: PointConfig, value: PointValue, sf: number): number[] {
    const current = this.bank.get(p.table, p.address);
    try {
      return encodePoint(p, value, sf, current);
    } catch (err) {
      if (!(err instanceof CodecError) || err.code !== 'VALUE_OUT_OF_RANGE' || typeof value !== 'number') throw err;
      const range = integerRange(p);
      if (range === undefined) throw err;
      const [rawLo, rawHi] = range;
      const step = p.scale * 10 ** sf;
      const a = Number(rawLo) * step + p.offset;
      const b = Number(rawHi) * step + p.offset;
      return encodePoint(p, Math.min(Math.max(value, Math.min(a, b)), Math.max(a, b)), sf, current);
    }
  }

  private require(name: string): PointConfig {
    const p = this.points.get(name);
    if (p === undefined) throw new RangeError(`no point named ${name}`);
    return p;
  }
}

function integerRange(p: PointConfig): readonly [bigint, bigint] | undefined {
  switch (p.type) {
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'int64':
    case 'uint64':
      return INTEGER_RANGES[p.type];
    default:
      return undefined;
  }
}
