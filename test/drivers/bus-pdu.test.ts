// Client-side Modbus PDUs and the RTU CRC, against bytes worked out by hand from the Modbus
// Application Protocol v1.1b3 (section 6) and the Modbus over serial line guide (CRC, appendix B).
import { describe, expect, it } from 'vitest';
import { crc16, hasValidCrc, withCrc } from '../../src/drivers/modbus/crc16.js';
import { encodeRequest, expectedResponseLength, parseResponse, type ModbusRequest } from '../../src/drivers/modbus/pdu.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');

describe('crc16', () => {
  it('matches the classic read-holding-registers frame 01 03 0000 000A -> CRC C5 CD (low byte first)', () => {
    expect(crc16(bytes('01 03 00 00 00 0a'))).toBe(0xcdc5);
    expect(hex(withCrc(bytes('01 03 00 00 00 0a')))).toBe('01030000000ac5cd');
    expect(hasValidCrc(bytes('01 03 00 00 00 0a c5 cd'))).toBe(true);
    expect(hasValidCrc(bytes('01 03 00 00 00 0a c5 cc'))).toBe(false);
  });
});

describe('encodeRequest', () => {
  it.each<[ModbusRequest, string]>([
    [{ fc: 3, address: 0x006b, count: 3 }, '03 006b 0003'], // spec example: read 108..110
    [{ fc: 4, address: 8, count: 1 }, '04 0008 0001'],
    [{ fc: 1, address: 19, count: 19 }, '01 0013 0013'],
    [{ fc: 2, address: 196, count: 22 }, '02 00c4 0016'],
    [{ fc: 5, address: 172, value: true }, '05 00ac ff00'],
    [{ fc: 5, address: 172, value: false }, '05 00ac 0000'],
    [{ fc: 6, address: 1, value: 3 }, '06 0001 0003'],
    [{ fc: 16, address: 1, values: [0x000a, 0x0102] }, '10 0001 0002 04 000a 0102'],
  ])('%j -> %s', (req, expected) => {
    expect(hex(encodeRequest(req))).toBe(expected.replace(/ /g, ''));
  });

  it('refuses what the protocol cannot carry', () => {
    expect(() => encodeRequest({ fc: 3, address: 0, count: 126 })).toThrow(RangeError);
    expect(() => encodeRequest({ fc: 1, address: 0, count: 2001 })).toThrow(RangeError);
    expect(() => encodeRequest({ fc: 3, address: 65530, count: 7 })).toThrow(RangeError);
    expect(() => encodeRequest({ fc: 16, address: 0, values: new Array<number>(124).fill(0) })).toThrow(RangeError);
    expect(() => encodeRequest({ fc: 6, address: 0, value: 65536 })).toThrow(RangeError);
    expect(() => encodeRequest({ fc: 3, address: -1, count: 1 })).toThrow(RangeError);
  });
});

describe('parseResponse', () => {
  it('reads registers (spec example: 3 registers 0x022B 0x0000 0x0064)', () => {
    const req: ModbusRequest = { fc: 3, address: 0x6b, count: 3 };
    expect(expectedResponseLength(req)).toBe(8);
    expect(parseResponse(req, bytes('03 06 022b 0000 0064'))).toEqual({ kind: 'data', values: [0x022b, 0, 0x64] });
  });

  it('reads bits least significant first (spec example: coils 20..38 = CD 6B 05)', () => {
    const req: ModbusRequest = { fc: 1, address: 19, count: 19 };
    expect(expectedResponseLength(req)).toBe(5);
    const outcome = parseResponse(req, bytes('01 03 cd 6b 05'));
    // 0xCD = 1100 1101 -> bits 0..7: 1 0 1 1 0 0 1 1; 0x6B -> 1 1 0 1 0 1 1 0; 0x05 -> 1 0 1
    expect(outcome).toEqual({ kind: 'data', values: [1, 0, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1] });
  });

  it('checks the echo of writes', () => {
    expect(parseResponse({ fc: 6, address: 1, value: 3 }, bytes('06 0001 0003'))).toEqual({ kind: 'data', values: [] });
    expect(parseResponse({ fc: 6, address: 1, value: 3 }, bytes('06 0001 0004'))).toMatchObject({ kind: 'invalid' });
    expect(parseResponse({ fc: 5, address: 172, value: true }, bytes('05 00ac ff00'))).toEqual({ kind: 'data', values: [] });
    expect(parseResponse({ fc: 16, address: 1, values: [1, 2] }, bytes('10 0001 0002'))).toEqual({ kind: 'data', values: [] });
    expect(parseResponse({ fc: 16, address: 1, values: [1, 2] }, bytes('10 0002 0002'))).toMatchObject({ kind: 'invalid' });
  });

  it('recognises exception responses', () => {
    expect(parseResponse({ fc: 3, address: 0, count: 1 }, bytes('83 02'))).toEqual({ kind: 'exception', exceptionCode: 2 });
    expect(parseResponse({ fc: 5, address: 0, value: true }, bytes('85 04'))).toEqual({ kind: 'exception', exceptionCode: 4 });
  });

  it.each([
    ['empty', ''],
    ['another function code', '04 02 0001'],
    ['a short answer', '03 02 00'],
    ['a wrong byte count with the right length', '03 04 0001'],
    ['an exception of the wrong length', '83 02 00'],
    ['an exception for another function', '84 02'],
  ])('calls %s invalid', (_what, h) => {
    expect(parseResponse({ fc: 3, address: 0, count: 1 }, bytes(h))).toMatchObject({ kind: 'invalid' });
  });
});
