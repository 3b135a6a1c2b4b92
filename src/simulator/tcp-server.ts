// Modbus TCP server of one TCP bus: MBAP framing (transaction id echoed, protocol id 0, length, unit
// id), requests routed to the simulated device with that unit id. A unit id that no device on this
// bus has is answered with exception 11 (gateway target device failed to respond), as a TCP-to-RTU
// gateway answers when the addressed slave stays silent — at once here, rather than after the
// gateway's own timeout, so drivers get a typed error quickly.
import net from 'node:net';
import type { Logger } from 'pino';
import type { TcpBusConfig } from '../config/types.js';
import { SimulatorBindError } from './errors.js';
import { EXCEPTION, exceptionPdu } from './pdu.js';
import { answerOf, type SimulatedDevice } from './simulated-device.js';

const MBAP_HEADER_BYTES = 7;
/** MBAP length field: unit id + PDU of 1..253 bytes. */
const MIN_MBAP_LENGTH = 2;
const MAX_MBAP_LENGTH = 254;

export class TcpModbusServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly units = new Map<number, SimulatedDevice>();
  private readonly log: Logger;
  private bound: { host: string; port: number } | undefined;

  constructor(
    private readonly bus: TcpBusConfig,
    devices: readonly SimulatedDevice[],
    deps: { logger: Logger },
  ) {
    for (const d of devices) this.units.set(d.unitId, d);
    this.log = deps.logger.child({ bus: bus.id });
    this.server = net.createServer((socket) => this.accept(socket));
  }

  /** Listens on the bus's host:port (port 0 = any free port, see address()). */
  start(): Promise<void> {
    const where = `${this.bus.host}:${this.bus.port}`;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new SimulatorBindError(this.bus.id, where, err.message, { cause: err }));
      this.server.once('error', onError);
      this.server.listen({ host: this.bus.host, port: this.bus.port, exclusive: true }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.log.error({ err }, 'server error'));
        const address = this.server.address();
        if (address !== null && typeof address !== 'string') this.bound = { host: address.address, port: address.port };
        this.log.info({ address: this.bound }, 'Modbus TCP server listening');
        resolve();
      });
    });
  }

  /** Where the server listens (the actual port when the config said 0). */
  address(): { host: string; port: number } {
    if (this.bound === undefined) throw new Error(`bus ${this.bus.id}: TCP server not started`);
    return this.bound;
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
    });
  }

  private accept(socket: net.Socket): void {
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.sockets.add(socket);
    this.log.debug({ peer }, 'client connected');
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      while (buffer.length >= MBAP_HEADER_BYTES && !socket.destroyed) {
        const length = buffer.readUInt16BE(4);
        if (length < MIN_MBAP_LENGTH || length > MAX_MBAP_LENGTH) {
          this.log.warn({ peer, length }, 'bad MBAP length: closing the connection');
          socket.destroy();
          return;
        }
        if (buffer.length < 6 + length) break;
        const frame = buffer.subarray(0, 6 + length);
        buffer = buffer.subarray(6 + length);
        if (frame.readUInt16BE(2) !== 0) continue; // not Modbus: ignored, as the spec asks
        this.serve(socket, peer, frame.readUInt16BE(0), frame[6] ?? 0, frame.subarray(7));
      }
    });
    socket.on('error', (err) => this.log.debug({ peer, err }, 'client socket error'));
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.log.debug({ peer }, 'client disconnected');
    });
  }

  private serve(socket: net.Socket, peer: string, transactionId: number, unitId: number, pdu: Buffer): void {
    const device = this.units.get(unitId);
    if (device === undefined) {
      this.send(socket, transactionId, unitId, exceptionPdu(pdu[0] ?? 0, EXCEPTION.gatewayTargetFailed), 0, false);
      return;
    }
    const faults = device.faults;
    if (faults.dropConnection) {
      this.log.debug({ peer, unitId }, 'dropConnection fault: closing the connection');
      socket.destroy();
      return;
    }
    const answer = answerOf(device, pdu, peer, this.log);
    if (answer === null) return;
    const tid = faults.wrongTransactionId ? (transactionId + 1) & 0xffff : transactionId;
    this.send(socket, tid, unitId, answer, faults.delayMs, faults.corruptFrames);
  }

  private send(socket: net.Socket, transactionId: number, unitId: number, pdu: Buffer, delayMs: number, corrupt: boolean): void {
    const frame = Buffer.alloc(MBAP_HEADER_BYTES + pdu.length);
    frame.writeUInt16BE(transactionId, 0);
    frame.writeUInt16BE(0, 2);
    frame.writeUInt16BE(pdu.length + 1, 4);
    frame[6] = unitId;
    pdu.copy(frame, MBAP_HEADER_BYTES);
    if (corrupt) for (let i = 0; i < frame.length; i++) frame[i] = (frame[i] ?? 0) ^ 0xa5;
    const write = (): void => {
      if (!socket.destroyed) socket.write(frame);
    };
    if (delayMs <= 0) {
      write();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      write();
    }, delayMs);
    this.timers.add(timer);
  }
}
