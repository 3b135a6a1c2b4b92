// Where each point of a model instance is, given where a device put the model and the length it
// reports (found by discovery). The fixed part comes from the definition; a repeating group is laid
// out as many times as its count says: a fixed number, the value of a count point (read from the
// model's registers), or as many whole instances as fill the rest of the model's length.
import { SunSpecDataError } from './errors.js';
import { groupSegment, sunspecPointName, type NameSegment } from './naming.js';
import { fixedSize, type GroupBody, type GroupDef, type ModelDef, type PointDef } from './types.js';

/** One point of a model instance. */
export interface PointInstance {
  /** The published name, e.g. `m160_2_DCW`. */
  readonly name: string;
  readonly def: PointDef;
  /** 0-based protocol address of its first register (holding registers). */
  readonly address: number;
  /** The published name of the sunssf point that scales it (same instance), or a literal exponent. */
  readonly sf?: string | number;
}

export interface ModelLayout {
  readonly def: ModelDef;
  /** Address of the model's ID register; L follows, then the points. */
  readonly start: number;
  /** L as the device reports it: registers after the ID and L registers. */
  readonly length: number;
  /** Every point in address order, pads included (they are never published). */
  readonly points: readonly PointInstance[];
}

/** Highest protocol address. */
const MAX_ADDRESS = 0xffff;

/**
 * The layout of model `def` at `start` (the address of its ID register) with the length `length`
 * the device reports. `registers` (registers[i] is the register at start + i) is needed only by
 * models with a group counted by a count point. Throws SunSpecDataError: LENGTH_MISMATCH,
 * ADDRESS_OVERFLOW, COUNT_INVALID.
 */
export function layoutModel(def: ModelDef, at: { start: number; length: number; registers?: ArrayLike<number> }): ModelLayout {
  const { start, length } = at;
  const end = start + 2 + length; // first address after the model
  if (end - 1 > MAX_ADDRESS) {
    throw new SunSpecDataError('ADDRESS_OVERFLOW', def.id, `model ${def.id} at ${start}: length ${length} runs past register ${MAX_ADDRESS}`);
  }
  const builder = new LayoutBuilder(def, start, end, at.registers);
  builder.body(def, [], []);
  return { def, start, length, points: builder.finish() };
}

/** Published names of the points visible from a group (by their names in the definition), innermost first. */
type Scope = ReadonlyArray<ReadonlyMap<string, string>>;

class LayoutBuilder {
  private readonly points: PointInstance[] = [];
  private readonly byName = new Map<string, PointInstance>();
  private address: number;

  constructor(
    private readonly def: ModelDef,
    private readonly start: number,
    private readonly end: number,
    private readonly registers: ArrayLike<number> | undefined,
  ) {
    this.address = start + 2;
  }

  body(body: GroupBody, segments: NameSegment[], outer: Scope): void {
    const own = new Map(body.points.map((p) => [p.name, sunspecPointName(this.def.id, segments, p.name)]));
    const scope: Scope = [own, ...outer];
    for (const p of body.points) {
      const point: PointInstance = { name: own.get(p.name) ?? p.name, def: p, address: this.address, ...sfOf(p, scope) };
      this.points.push(point);
      this.byName.set(point.name, point);
      this.address += p.size;
    }
    for (const g of body.groups) {
      const count = this.countOf(g, scope);
      for (let i = 1; i <= count; i++) this.body(g, [...segments, groupSegment(g, i)], scope);
    }
  }

  finish(): PointInstance[] {
    // Some devices leave out the trailing pad of a model (e.g. model 1 reported as 65, not 66): the
    // pad carries nothing, so a model shorter by exactly its trailing pads is accepted without them.
    while (this.address > this.end) {
      const last = this.points.at(-1);
      if (last === undefined || last.def.type !== 'pad' || last.address < this.end) break;
      this.points.pop();
      this.address = last.address;
    }
    if (this.address !== this.end) {
      const needed = this.address - this.start - 2;
      throw this.lengthError(`the definition needs ${needed}`);
    }
    return this.points;
  }

  private countOf(g: GroupDef, scope: Scope): number {
    switch (g.count.kind) {
      case 'fixed':
        return g.count.count;
      case 'fill': {
        // Checked when the definition is loaded: the last group of the model, of fixed size.
        const size = fixedSize(g);
        const rest = this.end - this.address;
        if (rest < 0 || size === 0 || rest % size !== 0) {
          const fixed = this.address - this.start - 2;
          throw this.lengthError(`the fixed part is ${fixed} and each ${g.name} adds ${size}`);
        }
        return rest / size;
      }
      case 'point':
        return this.countFromPoint(g, g.count.point, scope);
    }
  }

  private countFromPoint(g: GroupDef, countPoint: string, scope: Scope): number {
    const name = lookup(scope, countPoint);
    const point = name === undefined ? undefined : this.byName.get(name);
    const value = point === undefined ? undefined : this.registers?.[point.address - this.start];
    const where = `model ${this.def.id} at ${this.start}: group ${g.name}`;
    if (point === undefined || value === undefined) {
      throw new SunSpecDataError('COUNT_INVALID', this.def.id, `${where}: the registers of its count point ${name ?? countPoint} are needed`);
    }
    if (!Number.isInteger(value) || value < 0 || value >= 0xffff) {
      throw new SunSpecDataError('COUNT_INVALID', this.def.id, `${where}: count point ${point.name} is ${value}, not a count`);
    }
    // Checked before laying anything out, so that a wild count costs nothing.
    const size = fixedSize(g);
    if (value * size > this.end - this.address) {
      throw new SunSpecDataError(
        'COUNT_INVALID',
        this.def.id,
        `${where}: count point ${point.name} says ${value} of ${size} registers, more than the ${this.end - this.address} left in the model`,
      );
    }
    return value;
  }

  private lengthError(detail: string): SunSpecDataError {
    const length = this.end - this.start - 2;
    return new SunSpecDataError('LENGTH_MISMATCH', this.def.id, `model ${this.def.id} at ${this.start}: the device says length ${length}, but ${detail}`);
  }
}

/** The point's scale factor in this instance: the published name of the sunssf point it names, or its literal exponent. */
function sfOf(p: PointDef, scope: Scope): { sf?: string | number } {
  const ref = p.sf;
  if (ref === undefined || typeof ref === 'number') return ref === undefined ? {} : { sf: ref };
  // The loader has checked that every sf reaches a sunssf point; the fallback is never taken.
  return { sf: lookup(scope, ref) ?? ref };
}

function lookup(scope: Scope, name: string): string | undefined {
  for (const names of scope) {
    const found = names.get(name);
    if (found !== undefined) return found;
  }
  return undefined;
}
