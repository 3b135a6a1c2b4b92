import type { Logger } from 'pino';
import type { BusConfig } from '../config/types.js';
import { Bus, type UnitHandle } from '../drivers/modbus/bus.js';
import { TransportError } from '../drivers/errors.js';

/**
 * A `leaderOnly` bus (one master per RS-485 segment): the port is open only while this agent holds
 * the site lock, so a standby gateway on the same segment neither sends nor reads a byte. Each
 * period of leadership gets a fresh Bus (a closed Bus is never reopened); devices keep one
 * UnitHandle that follows whichever Bus is current, and fail fast while there is none.
 */
export class LeaderOnlyBus {
  private current: Bus | null = null;
  private closing: Promise<void> = Promise.resolve();

  constructor(
    readonly cfg: BusConfig,
    private readonly deps: { logger: Logger },
  ) {}

  get open(): boolean {
    return this.current !== null;
  }

  /** Leadership gained: open the port (after the previous period's port has closed). */
  async activate(): Promise<void> {
    await this.closing;
    if (this.current) return;
    this.current = new Bus(this.cfg, this.deps);
    this.current.start();
  }

  /** Leadership lost: close the port; a request on the wire finishes first (bounded by timeoutMs). */
  deactivate(): Promise<void> {
    const bus = this.current;
    this.current = null;
    if (bus) this.closing = bus.close();
    return this.closing;
  }

  stats(): ReturnType<Bus['stats']> | null {
    return this.current?.stats() ?? null;
  }

  unit(unitId: number, device?: string): UnitHandle {
    const busId = this.cfg.id;
    const current = (address: number, count: number): UnitHandle => {
      if (this.current) return this.current.unit(unitId, device);
      throw new TransportError('PORT_NOT_OPEN', `bus ${busId} is leaderOnly and this agent is standby`, { bus: busId, device, unit: unitId, address, count });
    };
    return {
      busId,
      unitId,
      device,
      read: async (table, address, count, opts) => current(address, count).read(table, address, count, opts),
      writeRegisters: async (address, values, opts) => current(address, values.length).writeRegisters(address, values, opts),
      writeCoil: async (address, value, opts) => current(address, 1).writeCoil(address, value, opts),
    };
  }
}
