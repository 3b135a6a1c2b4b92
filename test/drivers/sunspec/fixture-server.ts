// A Modbus TCP server of the tests' own for SunSpec register images: FC3 (read holding registers),
// FC6 and FC16 (write), nothing else. Written here, apart from the simulator, so that the SunSpec
// tests check the driver against a device that shares no code with it. Every request is logged;
// what a unit answers is its FixtureUnit's business (registers, refusals, repeated images).
import net from 'node:net';

/** One request as the server saw it. */
export interface FixtureRequest {
  unitId: number;
  fc: number;
  address: number;
  /** FC3: the count; FC6/FC16: the number of registers written. */
  count: number;
  /** FC6/FC16: the values written. */
  values?: number[];
}

/** Modbus exception codes the fixture answers with. */
export const ILLEGAL_FUNCTION = 1;
export const ILLEGAL_DATA_ADDRESS = 2;

/** A device behind the server: its registers and how it treats requests. */
export class FixtureUnit {
  readonly registers = new Map<number, number>();
  /**
   * Which addresses exist. Default: the ones that hold a value. A read or write touching another
   * one is answered with exception 2.
   */
  exists: (address: number) => boolean = (address) => this.registers.has(address);
  /** An extra refusal of reads that would otherwise work (exception 2): a device that will not read across a model boundary. */
  refuseRead: (address: number, count: number) => boolean = () => false;
  /** Maps an address to the register it reads, for a device that ignores high address bits. */
  alias: (address: number) => number = (address) => address;
  /** Addresses whose writes are acknowledged but not stored: a device that quietly ignores a setting. */
  readonly ignoredWrites = new Set<number>();

  set(address: number, values: readonly number[]): void {
    values.forEach((v, i) => this.registers.set(address + i, v & 0xffff));
  }

  get(address: number): number | undefined {
    return this.registers.get(this.alias(address));
  }

  /** The registers of a read, or the exception code to answer with. */
  read(address: number, count: number): number[] | number {
    const out: number[] = [];
    for (let a = address; a < address + count; a++) {
      const v = this.get(a);
      if (v === undefined || !this.exists(this.alias(a))) return ILLEGAL_DATA_ADDRESS;
      out.push(v);
    }
    return this.refuseRead(address, count) ? ILLEGAL_DATA_ADDRESS : out;
  }

  /** Stores a write, or returns the exception code to answer with. */
  write(address: number, values: readonly number[]): number | null {
    for (let a = address; a < address + values.length; a++) if (!this.exists(this.alias(a))) return ILLEGAL_DATA_ADDRESS;
    values.forEach((v, i) => {
      if (!this.ignoredWrites.has(address + i)) this.registers.set(this.alias(address + i), v & 0xffff);
    });
    return null;
  }
}

export class FixtureServer {
  readonly units = new Map<number, FixtureUnit>();
  readonly requests: FixtureRequest[] = [];
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private portValue = 0;

  get port(): number {
    return this.portValue;
  }

  unit(unitId: number): FixtureUnit {
    let u = this.units.get(unitId);
    if (u === undefined) {
      u = new FixtureUnit();
      this.units.set(unitId, u);
    }
    return u;
  }

  /** The writes (FC6/FC16) in the order they arrived. */
  writes(unitId?: number): Array<{ address: number; values: number[] }> {
    return this.requests
      .filter((r) => r.values !== undefined && (unitId === undefined || r.unitId === unitId))
      .map((r) => ({ address: r.address, values: r.values ?? [] }));
  }

  reads(unitId?: number): FixtureRequest[] {
    return this.requests.filter((r) => r.fc === 3 && (unitId === undefined || r.unitId === unitId));
  }

  /** Closes every client connection (the server keeps listening): what a device reboot looks like. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: 0 }, () => {
        const address = this.server.address();
        if (address !== null && typeof address !== 'string') this.portValue = address.port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.dropConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 7 && buffer.length >= 6 + buffer.readUInt16BE(4)) {
        const length = buffer.readUInt16BE(4);
        const frame = buffer.subarray(0, 6 + length);
        buffer = buffer.subarray(6 + length);
        const answer = this.answer(frame[6] ?? 0, frame.subarray(7));
        const head = Buffer.alloc(7);
        head.writeUInt16BE(frame.readUInt16BE(0), 0);
        head.writeUInt16BE(0, 2);
        head.writeUInt16BE(answer.length + 1, 4);
        head[6] = frame[6] ?? 0;
        socket.write(Buffer.concat([head, answer]));
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** The response PDU to a request PDU. */
  private answer(unitId: number, pdu: Buffer): Buffer {
    const fc = pdu[0] ?? 0;
    const address = pdu.length >= 3 ? pdu.readUInt16BE(1) : 0;
    const unit = this.units.get(unitId);
    const exception = (code: number): Buffer => Buffer.from([fc | 0x80, code]);
    if (fc === 3) {
      const count = pdu.readUInt16BE(3);
      this.requests.push({ unitId, fc, address, count });
      const regs = unit === undefined ? ILLEGAL_DATA_ADDRESS : unit.read(address, count);
      if (typeof regs === 'number') return exception(regs);
      const out = Buffer.alloc(2 + 2 * regs.length);
      out[0] = fc;
      out[1] = 2 * regs.length;
      regs.forEach((v, i) => out.writeUInt16BE(v, 2 + 2 * i));
      return out;
    }
    if (fc === 6 || fc === 16) {
      const values = fc === 6 ? [pdu.readUInt16BE(3)] : Array.from({ length: pdu.readUInt16BE(3) }, (_, i) => pdu.readUInt16BE(6 + 2 * i));
      this.requests.push({ unitId, fc, address, count: values.length, values });
      const refused = unit === undefined ? ILLEGAL_DATA_ADDRESS : unit.write(address, values);
      if (refused !== null) return exception(refused);
      return fc === 6 ? Buffer.from(pdu.subarray(0, 5)) : Buffer.from([fc, address >> 8, address & 0xff, 0, values.length]);
    }
    this.requests.push({ unitId, fc, address, count: 0 });
    return exception(ILLEGAL_FUNCTION);
  }
}
