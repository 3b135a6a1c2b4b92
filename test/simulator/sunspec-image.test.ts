// The register image of the simulated SunSpec devices, checked without a network: every register
// from the marker to the end marker belongs to exactly one point, the "not implemented" encodings
// the simulator writes are the ones the agent's decoder recognises, and the agent's decoder reads
// the served registers as the simulator means them (numbers where implemented, null where not).
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { pointWidth } from '../../src/config/point-width.js';
import { typeWidth } from '../../src/drivers/sunspec/codec-point.js';
import { decodeModel } from '../../src/drivers/sunspec/decode-model.js';
import { isNotImplemented } from '../../src/drivers/sunspec/not-implemented.js';
import { SUNSPEC_TYPES } from '../../src/drivers/sunspec/types.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';
import { inverterDevice } from '../../src/simulator/sunspec/inverter-device.js';
import { notImplementedRegisters } from '../../src/simulator/sunspec/not-implemented.js';
import { SunSpecImageError } from '../../src/simulator/errors.js';
import { sunspecImage } from '../../src/simulator/sunspec/register-map.js';
import { storageDevice } from '../../src/simulator/sunspec/storage-device.js';

const YAML = `
site: sunspec-image
agent: { id: sunspec-image }
zookeeper: { connect: "127.0.0.1:2181" }
buses:
  - { id: lan, type: tcp, host: 127.0.0.1, port: 1502 }
devices:
  - { id: pv-1, kind: inverter, bus: lan, unitId: 1, profile: sunspec }
  - { id: bat-1, kind: bms, bus: lan, unitId: 2, profile: sunspec, sunspec: { baseAddress: 50000 } }
`;

describe('not implemented, as served and as decoded', () => {
  it.each(SUNSPEC_TYPES.filter((t) => t !== 'pad'))('%s', (type) => {
    const size = typeWidth(type) ?? 8;
    const regs = notImplementedRegisters(type, size);
    expect(regs).toHaveLength(size);
    expect(isNotImplemented(type, regs, size)).toBe(true);
  });
});

describe.each([
  { kind: 'inverter', device: () => inverterDevice('pv-1', 1) },
  { kind: 'storage', device: () => storageDevice('bat-1', 2) },
])('the $kind image', ({ device }) => {
  it.each([40000, 0, 50000])('at %i covers marker to end marker with one point per register', (base) => {
    const image = sunspecImage([device()], base);
    const covered = new Map<number, string>();
    for (const p of image.points) {
      for (let a = p.address; a < p.address + pointWidth(p); a++) {
        expect(covered.get(a), `register ${a}: ${p.name}`).toBeUndefined();
        covered.set(a, p.name);
      }
    }
    expect(Math.min(...covered.keys())).toBe(base);
    expect(Math.max(...covered.keys())).toBe(image.endAddress + 1);
    expect(covered.size).toBe(image.endAddress + 2 - base);
    expect(image.devices[0]?.models[0]).toEqual({ id: 1, start: base + 2, length: 66 });
  });

  it('refuses a value for a point its models do not have', () => {
    const d = device();
    expect(() => sunspecImage([{ ...d, values: new Map([...d.values, ['m103_NoSuchPoint', 1]]) }], 40000)).toThrow(SunSpecImageError);
  });
});

describe("the agent's decoder on the served registers", () => {
  const site = new SimulatedSite(parseConfig(YAML, 'sunspec-image.yaml'), frozenOptions());

  it.each([
    { id: 'pv-1', image: () => sunspecImage([inverterDevice('pv-1', 1)], 40000) },
    { id: 'bat-1', image: () => sunspecImage([storageDevice('bat-1', 2)], 50000) },
  ])('$id: every point decodes to what the simulator serves, null where it is left out', ({ id, image }) => {
    const served = site.device(id);
    const { devices, values } = image();
    let implemented = 0;
    let leftOut = 0;
    for (const layout of devices[0]?.layouts ?? []) {
      const decoded = decodeModel(layout, served.registers('holding', layout.start, 2 + layout.length));
      for (const [name, value] of Object.entries(decoded)) {
        if (!values.has(name)) {
          expect(value, name).toBeNull();
          leftOut++;
          continue;
        }
        implemented++;
        const mine = served.value(name);
        if (typeof mine === 'number') expect(value, name).toBeCloseTo(mine, 6);
        else expect(value, name).toBe(mine);
      }
    }
    expect(implemented).toBeGreaterThan(40);
    expect(leftOut).toBeGreaterThan(5);
  });
});
