// Modbus RTU slave side of one RTU bus: the serial path opened with the bus's line settings, frames
// cut by function-code length (see rtu-framer.ts), several units on one line. A request for a unit id
// no device here has is ignored (on RS-485 another slave, or nobody, would answer); unit id 0 is a
// broadcast: writes go to every device, nobody answers.
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import type { RtuBusConfig } from '../config/types.js';
import { withCrc } from '../drivers/modbus/crc16.js';
import { SimulatorBindError } from './errors.js';
import { RtuRequestFramer } from './rtu-framer.js';
import { answerOf, type SimulatedDevice } from './simulated-device.js';

/** Shortest silence that ends a frame of unknown length, ms (pseudo-terminals deliver in bursts). */
const MIN_SILENCE_MS = 20;

/** 3.5 character times on the line, ms: start bit + data bits + parity + stop bits per character. */
export function interFrameMs(bus: RtuBusConfig): number {
  const bitsPerChar = 1 + bus.dataBits + (bus.parity === 'none' ? 0 : 1) + bus.stopBits;
  return (3.5 * bitsPerChar * 1000) / bus.baudRate;
}

export class RtuModbusServer {
  private readonly units = new Map<number, SimulatedDevice>();
  private readonly devices: readonly SimulatedDevice[];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly log: Logger;
  private readonly framer: RtuRequestFramer;
  private port: SerialPort | undefined;

  constructor(
    private readonly bus: RtuBusConfig,
    devices: readonly SimulatedDevice[],
    deps: { logger: Logger },
  ) {
    this.devices = devices;
    for (const d of devices) this.units.set(d.unitId, d);
    this.log = deps.logger.child({ bus: bus.id });
    this.framer = new RtuRequestFramer(Math.max(interFrameMs(bus), MIN_SILENCE_MS), (frame) => this.serve(frame));
  }

  start(): Promise<void> {
    const port = new SerialPort({
      path: this.bus.path,
      baudRate: this.bus.baudRate,
      parity: this.bus.parity,
      dataBits: this.bus.dataBits,
      stopBits: this.bus.stopBits,
      autoOpen: false,
    });
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) {
          reject(new SimulatorBindError(this.bus.id, this.bus.path, err.message, { cause: err }));
          return;
        }
        this.port = port;
        port.on('data', (chunk: Buffer) => this.framer.push(chunk));
        port.on('error', (e) => this.log.error({ err: e }, 'serial port error'));
        this.log.info({ path: this.bus.path }, 'Modbus RTU slave listening');
        resolve();
      });
    });
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.framer.close();
    const port = this.port;
    this.port = undefined;
    if (port === undefined || !port.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }

  private serve(frame: Buffer): void {
    const unitId = frame[0] ?? 0;
    const pdu = frame.subarray(1, frame.length - 2);
    if (unitId === 0) {
      for (const d of this.devices) answerOf(d, pdu, this.bus.path, this.log, { broadcast: true });
      return;
    }
    const device = this.units.get(unitId);
    if (device === undefined) return;
    const faults = device.faults;
    const answer = answerOf(device, pdu, this.bus.path, this.log);
    if (answer === null) return;
    const out = withCrc(Buffer.concat([Buffer.from([unitId]), answer]));
    if (faults.corruptFrames) out[out.length - 1] = (out[out.length - 1] ?? 0) ^ 0xff;
    if (faults.delayMs <= 0) {
      this.write(out);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.write(out);
    }, faults.delayMs);
    this.timers.add(timer);
  }

  private write(frame: Buffer): void {
    const port = this.port;
    if (port === undefined || !port.isOpen) return;
    port.write(frame, (err) => {
      if (err) this.log.warn({ err }, 'serial write failed');
    });
  }
}
