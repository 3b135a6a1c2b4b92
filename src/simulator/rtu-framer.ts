// Cuts the byte stream a Modbus RTU slave hears into request frames. The length of a request follows
// from its function code (8 bytes for FC 1..6, 9 + byte count for FC 15/16), which is more robust on
// a pseudo-terminal than timing alone; silence is only used for function codes of unknown length and
// to throw away the remains of a broken frame. A frame with a bad CRC is skipped a byte at a time
// until the stream lines up again, as a slave resynchronising on a noisy line would.
import { hasValidCrc } from '../drivers/modbus/crc16.js';
import { requestPduLength } from './pdu.js';

/** Longest RTU frame: address + 253-byte PDU + CRC. */
const MAX_FRAME_BYTES = 256;

export class RtuRequestFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private silenceTimer: NodeJS.Timeout | undefined;

  /**
   * `silenceMs`: quiet time after which a pending partial frame ends (3.5 character times on a real
   * line; the RTU server uses at least 20 ms, since a pseudo-terminal under load delivers in bursts).
   */
  constructor(
    private readonly silenceMs: number,
    private readonly onFrame: (frame: Buffer) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buffer, chunk]);
    this.parse();
    this.armSilence();
  }

  close(): void {
    if (this.silenceTimer !== undefined) clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    this.buffer = Buffer.alloc(0);
  }

  private parse(): void {
    while (this.buffer.length >= 2) {
      const pduLength = requestPduLength(this.buffer.subarray(1));
      if (pduLength === null) return; // need more bytes to know the length
      if (pduLength === undefined) {
        // Unknown function code: its end can only be told by silence; a runaway buffer is noise.
        if (this.buffer.length > MAX_FRAME_BYTES) this.buffer = this.buffer.subarray(1);
        else return;
        continue;
      }
      const total = 1 + pduLength + 2;
      if (this.buffer.length < total) return;
      const frame = this.buffer.subarray(0, total);
      if (hasValidCrc(frame)) {
        this.buffer = this.buffer.subarray(total);
        this.onFrame(Buffer.from(frame));
      } else {
        this.buffer = this.buffer.subarray(1);
      }
    }
  }

  private armSilence(): void {
    if (this.silenceTimer !== undefined) clearTimeout(this.silenceTimer);
    this.silenceTimer = undefined;
    if (this.buffer.length === 0) return;
    this.silenceTimer = setTimeout(() => this.onSilence(), this.silenceMs);
  }

  /** The line went quiet: what is buffered is one frame (unknown function code) or noise. */
  private onSilence(): void {
    this.silenceTimer = undefined;
    while (this.buffer.length > 0) {
      if (this.buffer.length >= 4 && hasValidCrc(this.buffer)) {
        const frame = Buffer.from(this.buffer);
        this.buffer = Buffer.alloc(0);
        this.onFrame(frame);
        return;
      }
      // Maybe noise in front of complete frames: drop a byte and parse what follows it.
      this.buffer = this.buffer.subarray(1);
      this.parse();
    }
    this.buffer = Buffer.alloc(0);
  }
}
