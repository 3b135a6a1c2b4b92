// Modbus RTU CRC-16 (polynomial 0xA001 reflected, initial value 0xFFFF). The CRC goes on the wire
// low byte first, after the frame it covers.

const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let crc = n;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
    table[n] = crc;
  }
  return table;
})();

export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) crc = (crc >>> 8) ^ (TABLE[(crc ^ byte) & 0xff] ?? 0);
  return crc;
}

/** `bytes` followed by their CRC (low byte first): an RTU frame ready to send. */
export function withCrc(bytes: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(bytes.length + 2); // pooled; every byte is written below
  frame.set(bytes, 0);
  frame.writeUInt16LE(crc16(bytes), bytes.length);
  return frame;
}

/** True when the last two bytes of `frame` are the CRC of the bytes before them. */
export function hasValidCrc(frame: Uint8Array): boolean {
  if (frame.length < 3) return false;
  const body = frame.subarray(0, frame.length - 2);
  const received = (frame[frame.length - 2] ?? 0) | ((frame[frame.length - 1] ?? 0) << 8);
  return crc16(body) === received;
}
