// The reads of one SunSpec device's models in a poll. Each model's ID and L registers and each of
// its points are points for the device planner (src/drivers/device/planner.ts), so the models are
// read in as few requests as any device's points: merged across model boundaries, at most 125
// registers each, a point never split between two requests.
//
// A device may refuse a read (exception 2, or 1) that spans two models while it answers each model
// on its own: then its models are read one by one from then on, never across a model again. A
// read refused inside one model is split by the plan, which remembers the split, as DeviceDriver
// does. Before learning either, the caller may want to walk the chain again (a refused read can
// mean a firmware update moved the models): `read` throws the refusal unless told to split.
import type { Logger } from 'pino';
import type { PointConfig } from '../../config/types.js';
import { ModbusExceptionError } from '../errors.js';
import type { UnitHandle } from '../modbus/bus.js';
import { describeBlock, ReadPlan, type PlanOptions, type ReadBlock } from '../device/planner.js';
import type { ModelLayout } from './layout.js';

/** The registers of one model: `registers[i]` is at `layout.start + i`, undefined where not read. */
export interface ModelRegisters {
  readonly layout: ModelLayout;
  readonly registers: ReadonlyArray<number | undefined>;
}

/** Exceptions that are a permanent answer about the addresses asked for: 1 illegal function, 2 illegal data address. */
const REFUSED_READ_CODES: ReadonlySet<number> = new Set([1, 2]);

/** Models read together, and their plan. */
interface Segment {
  readonly layouts: readonly ModelLayout[];
  readonly plan: ReadPlan;
}

/** Where a planner point's registers go: its model, and its offset from the model's ID register. */
interface Slot {
  readonly layout: ModelLayout;
  readonly offset: number;
}

export class ModelReadPlan {
  private segments: Segment[];
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly layouts: readonly ModelLayout[],
    private readonly opts: PlanOptions = {},
  ) {
    for (const layout of layouts) {
      this.slots.set(headerName(layout), { layout, offset: 0 });
      for (const p of layout.points) this.slots.set(p.name, { layout, offset: p.address - layout.start });
    }
    this.segments = layouts.length === 0 ? [] : [this.segment(layouts)];
  }

  /** The requests of one poll, in order. */
  blocks(): ReadBlock[] {
    return this.segments.flatMap((s) => s.plan.blocks());
  }

  /**
   * The registers of every model. A refused read throws its ModbusExceptionError unless
   * `splitRefused`; with it, the plan learns (see the file comment) and reads on. Any other failure
   * of a read throws at once (no partial result).
   */
  async read(unit: UnitHandle, opts: { log: Logger; splitRefused: boolean }): Promise<ModelRegisters[]> {
    const registers = new Map<ModelLayout, Array<number | undefined>>(
      this.layouts.map((l) => [l, new Array<number | undefined>(2 + l.length).fill(undefined)]),
    );
    const queue = [...this.segments];
    for (let segment = queue.shift(); segment !== undefined; segment = queue.shift()) {
      const pending = segment.plan.blocks();
      for (let block = pending.shift(); block !== undefined; block = pending.shift()) {
        let answer: number[];
        try {
          answer = await unit.read('holding', block.address, block.count);
        } catch (err) {
          if (!opts.splitRefused || !(err instanceof ModbusExceptionError) || !REFUSED_READ_CODES.has(err.exceptionCode)) throw err;
          const models = this.modelsIn(segment, block);
          if (models.length > 1) {
            const parts = segment.layouts.map((l) => this.segment([l]));
            this.segments.splice(this.segments.indexOf(segment), 1, ...parts);
            queue.unshift(...parts);
            opts.log.info({ block: describeBlock(block), models: models.map((l) => l.def.id) }, `device refused a read across models with exception ${err.exceptionCode}: reading model by model`);
            break;
          }
          const parts = segment.plan.split(block);
          opts.log.info(
            { block: describeBlock(block), into: parts.map(describeBlock), unreadable: parts.length === 0 ? segment.plan.pointsIn(block).map((p) => p.name) : undefined },
            `device refused a read with exception ${err.exceptionCode}: read split`,
          );
          pending.unshift(...parts);
          continue;
        }
        for (const p of segment.plan.pointsIn(block)) {
          const slot = this.slots.get(p.name);
          const target = slot === undefined ? undefined : registers.get(slot.layout);
          if (slot === undefined || target === undefined) continue;
          segment.plan.slice(block, answer, p).forEach((w, i) => (target[slot.offset + i] = w));
        }
      }
    }
    return this.layouts.map((layout) => ({ layout, registers: registers.get(layout) ?? [] }));
  }

  private segment(layouts: readonly ModelLayout[]): Segment {
    const points = layouts.flatMap((l) => [
      registerRange(headerName(l), l.start, 2),
      ...l.points.map((p) => registerRange(p.name, p.address, p.def.size)),
    ]);
    return { layouts, plan: new ReadPlan(points, this.opts) };
  }

  private modelsIn(segment: Segment, block: ReadBlock): ModelLayout[] {
    const found = new Set<ModelLayout>();
    for (const p of segment.plan.pointsIn(block)) {
      const slot = this.slots.get(p.name);
      if (slot !== undefined) found.add(slot.layout);
    }
    return [...found];
  }
}

/** The planner point of a model's ID and L registers (a name no SunSpec point can have). */
function headerName(layout: ModelLayout): string {
  return `#${layout.def.id}@${layout.start}`;
}

/** `size` registers at `address`, as the planner sees a point: only where and how wide matter here. */
function registerRange(name: string, address: number, size: number): PointConfig {
  return { name, table: 'holding', address, type: 'string', length: size, wordOrder: 'big', byteOrder: 'big', scale: 1, offset: 0, access: 'read' };
}
