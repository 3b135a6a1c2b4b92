// Table of broken configs: each must fail with exactly the problems listed (key path, line, message).
import { describe, expect, it } from 'vitest';
import { configErrorOf, type Problem as Expected } from './problems.js';

function problemsOf(yaml: string): Expected[] {
  const err = configErrorOf(yaml);
  expect(err.code).toBe('CONFIG_INVALID');
  expect(err.retryable).toBe(false);
  for (const p of err.problems) expect(p.file).toBe('site.yaml');
  return err.problems.map(({ line, path, message }) => ({ line, path, message }));
}

// Lines 1..12 of a valid config; points (if any) start at line 13.
const HEAD = `site: s
zookeeper:
  connect: "127.0.0.1:2181"
buses:
  - id: lan
    type: tcp
    host: 127.0.0.1
devices:
  - id: d1
    kind: meter
    bus: lan
    points:
`;
const withPoints = (...points: string[]): string => HEAD + points.map((p) => `      - ${p}\n`).join('');

// A SunSpec device: its `sunspec:` block starts at line 13, its first key at line 14.
const SUNSPEC = HEAD.replace('    points:\n', '    profile: sunspec\n    sunspec:\n');
const withSunSpec = (...lines: string[]): string => SUNSPEC + lines.map((l) => `      ${l}\n`).join('');

const SAFETY = 'a write in flight must end before the ZooKeeper session can expire and another agent take the site lock';

const cases: Array<[string, string, Expected[]]> = [
  // --- the document and top-level keys
  ['unknown top-level key', 'site: s\nsites: x\nzookeeper: { connect: "a:1" }\n', [{ line: 2, path: 'sites', message: 'unknown key (did you mean site?)' }]],
  ['missing site', 'zookeeper:\n  connect: "a:1"\n', [{ line: 1, path: 'site', message: 'required' }]],
  ['site not matching its pattern', 'site: North_Farm\nzookeeper: { connect: "a:1" }\n', [{ line: 1, path: 'site', message: 'must match [a-z0-9][a-z0-9-]{0,63}' }]],
  ['missing zookeeper.connect', 'site: s\nzookeeper:\n  root: /gk\n', [{ line: 2, path: 'zookeeper.connect', message: 'required' }]],
  ['zookeeper.connect without port', 'site: s\nzookeeper:\n  connect: "zk1:2181,zk2"\n', [{ line: 3, path: 'zookeeper.connect', message: 'must be host:port[,host:port...][/chroot]' }]],
  ['zookeeper.connect chroot with a trailing slash', 'site: s\nzookeeper:\n  connect: "zk1:2181,zk2:2181/energy/"\n', [{ line: 3, path: 'zookeeper.connect', message: "the chroot '/energy/' must be an absolute path like /energy: no empty, . or .. parts, no trailing slash" }]],
  ['zookeeper.connect chroot with ..', 'site: s\nzookeeper:\n  connect: "zk1:2181/a/../b"\n', [{ line: 3, path: 'zookeeper.connect', message: "the chroot '/a/../b' must be an absolute path like /energy: no empty, . or .. parts, no trailing slash" }]],
  ['zookeeper.connect chroot in /zookeeper', 'site: s\nzookeeper:\n  connect: "zk1:2181/zookeeper/x"\n', [{ line: 3, path: 'zookeeper.connect', message: "the chroot '/zookeeper/x' is inside /zookeeper, ZooKeeper's own subtree" }]],
  ['zookeeper.connect chroot after a host without port', 'site: s\nzookeeper:\n  connect: "zk1/energy"\n', [{ line: 3, path: 'zookeeper.connect', message: 'must be host:port[,host:port...][/chroot]' }]],
  ['zookeeper.connect with port 0', 'site: s\nzookeeper:\n  connect: "zk1:0"\n', [{ line: 3, path: 'zookeeper.connect', message: 'ports must be from 1 to 65535' }]],
  ['relative zookeeper.root', 'site: s\nzookeeper:\n  connect: "a:1"\n  root: gridkeeper\n', [{ line: 4, path: 'zookeeper.root', message: 'must be an absolute path like /gridkeeper' }]],
  ['zookeeper.root with ..', 'site: s\nzookeeper:\n  connect: "a:1"\n  root: /a/../b\n', [{ line: 4, path: 'zookeeper.root', message: 'must be an absolute path like /gridkeeper' }]],
  ['relative credentials file', 'site: s\nzookeeper:\n  connect: "a:1"\n  auth:\n    credentialsFile: zk.credentials\n', [{ line: 5, path: 'zookeeper.auth.credentialsFile', message: 'must be an absolute path' }]],
  [
    'command issuer that is not an ACL id',
    'site: s\nzookeeper:\n  connect: "a:1"\n  auth:\n    credentialsFile: /etc/zk.credentials\n    commandIssuers: [ "world:anyone", ems ]\n',
    [{ line: 6, path: 'zookeeper.auth.commandIssuers[1]', message: 'must be a ZooKeeper ACL id like digest:ems:BASE64HASH, ip:10.0.0.0/8 or world:anyone' }],
  ],
  ['session timeout too short', 'site: s\nzookeeper:\n  connect: "a:1"\n  sessionTimeoutMs: 500\n', [{ line: 4, path: 'zookeeper.sessionTimeoutMs', message: 'must be an integer from 1000 to 600000' }]],
  ['http.listen true', 'site: s\nzookeeper: { connect: "a:1" }\nhttp:\n  listen: true\n', [{ line: 4, path: 'http.listen', message: 'must be "host:port" or false' }]],
  ['http.listen without port', 'site: s\nzookeeper: { connect: "a:1" }\nhttp:\n  listen: localhost\n', [{ line: 4, path: 'http.listen', message: 'must be "host:port" or false' }]],
  ['control.verifyWrites not a boolean', 'site: s\nzookeeper: { connect: "a:1" }\ncontrol:\n  verifyWrites: "yes"\n', [{ line: 4, path: 'control.verifyWrites', message: 'must be true or false' }]],
  ['log level unknown', 'site: s\nzookeeper: { connect: "a:1" }\nlog: { level: verbose }\n', [{ line: 3, path: 'log.level', message: 'must be one of fatal, error, warn, info, debug, trace' }]],
  ['buses not a list', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  lan: {}\n', [{ line: 3, path: 'buses', message: 'must be a list' }]],

  // --- buses
  ['bus type unknown', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: lan\n    type: udp\n    host: h\n', [{ line: 5, path: 'buses[0].type', message: 'must be one of tcp, rtu' }]],
  ['bus type missing', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: lan\n    host: h\n', [{ line: 4, path: 'buses[0].type', message: 'required' }]],
  ['tcp port out of range', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: lan\n    type: tcp\n    host: h\n    port: 70000\n', [{ line: 7, path: 'buses[0].port', message: 'must be an integer from 1 to 65535' }]],
  ['tcp key misspelt', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: lan\n    type: tcp\n    host: h\n    timeout: 500\n', [{ line: 7, path: 'buses[0].timeout', message: 'unknown key (did you mean timeoutMs?)' }]],
  ['rtu key on a tcp bus', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: lan\n    type: tcp\n    host: h\n    baudRate: 9600\n', [{ line: 7, path: 'buses[0].baudRate', message: 'unknown key' }]],
  ['rtu parity unknown', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: rs\n    type: rtu\n    path: /dev/ttyUSB0\n    parity: mark\n', [{ line: 7, path: 'buses[0].parity', message: 'must be one of none, even, odd' }]],
  ['rtu dataBits 9', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: rs\n    type: rtu\n    path: /dev/ttyUSB0\n    dataBits: 9\n', [{ line: 7, path: 'buses[0].dataBits', message: 'must be 7 or 8' }]],
  ['rtu path missing', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: rs\n    type: rtu\n', [{ line: 4, path: 'buses[0].path', message: 'required' }]],
  ['duplicate bus id', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - { id: lan, type: tcp, host: a }\n  - { id: lan, type: tcp, host: b }\n', [{ line: 5, path: 'buses[1].id', message: "duplicate bus id 'lan' (also buses[0])" }]],
  ['two tcp buses on one host:port', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - { id: a, type: tcp, host: 10.0.0.1 }\n  - { id: b, type: tcp, host: 10.0.0.1, port: 502 }\n', [{ line: 5, path: 'buses[1].host', message: "10.0.0.1:502 is already bus 'a': put all devices behind one host:port on one bus" }]],
  ['two rtu buses on one serial port', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - { id: a, type: rtu, path: /dev/ttyS0 }\n  - { id: b, type: rtu, path: /dev/ttyS0, baudRate: 19200 }\n', [{ line: 5, path: 'buses[1].path', message: "/dev/ttyS0 is already bus 'a': put all devices of one serial port on one bus" }]],
  ['bus timeout over a quarter of the session timeout', 'site: s\nzookeeper: { connect: "a:1" }\nbuses:\n  - id: lan\n    type: tcp\n    host: h\n    timeoutMs: 2501\n', [{ line: 7, path: 'buses[0].timeoutMs', message: `must be at most zookeeper.sessionTimeoutMs / 4 = 2500: ${SAFETY}` }]],
  ['default bus timeout over a quarter of a short session', 'site: s\nzookeeper:\n  connect: "a:1"\n  sessionTimeoutMs: 2000\nbuses:\n  - id: rs\n    type: rtu\n    path: /dev/ttyUSB0\n', [{ line: 6, path: 'buses[0].timeoutMs', message: `must be at most zookeeper.sessionTimeoutMs / 4 = 500: ${SAFETY}` }]],

  // --- devices
  ['device kind unknown', HEAD.replace('kind: meter', 'kind: pv') + '      - { name: p, address: 0, type: uint16 }\n', [{ line: 10, path: 'devices[0].kind', message: 'must be one of inverter, turbine, bms, meter, other' }]],
  ['unit id out of range', HEAD.replace('bus: lan', 'bus: lan\n    unitId: 248') + '      - { name: p, address: 0, type: uint16 }\n', [{ line: 12, path: 'devices[0].unitId', message: 'must be an integer from 0 to 247' }]],
  ['poll interval too short', HEAD.replace('bus: lan', 'bus: lan\n    pollIntervalMs: 50') + '      - { name: p, address: 0, type: uint16 }\n', [{ line: 12, path: 'devices[0].pollIntervalMs', message: 'must be an integer from 100 to 86400000' }]],
  ['unknown bus', HEAD.replace('bus: lan', 'bus: rs485') + '      - { name: p, address: 0, type: uint16 }\n', [{ line: 11, path: 'devices[0].bus', message: "unknown bus 'rs485' (buses: lan)" }]],
  ['unknown profile', HEAD.replace('    points:\n', '    profile: acme-9000\n'), [{ line: 12, path: 'devices[0].profile', message: "unknown profile 'acme-9000' (built-in: generic-bms, generic-inverter, generic-turbine, sunspec)" }]],
  ['profile name that is a path', HEAD.replace('    points:\n', '    profile: ../../etc/passwd\n'), [{ line: 12, path: 'devices[0].profile', message: 'must match [a-z0-9][a-z0-9-]{0,63}' }]],
  ['device without points or profile', HEAD.replace('    points:\n', ''), [{ line: 9, path: 'devices[0].points', message: 'required: a device needs a profile or points' }]],
  ['unit 0 on an RTU bus', 'site: s\nzookeeper: { connect: "a:1" }\nbuses: [{ id: rs, type: rtu, path: /dev/ttyUSB0 }]\ndevices:\n  - { id: d, kind: bms, bus: rs, unitId: 0, profile: generic-bms }\n', [{ line: 5, path: 'devices[0].unitId', message: 'unit 0 is the RTU broadcast address: no device answers there' }]],
  ['duplicate device id', HEAD + '      - { name: p, address: 0, type: uint16 }\n  - { id: d1, kind: meter, bus: lan, unitId: 2, profile: generic-bms }\n', [{ line: 14, path: 'devices[1].id', message: "duplicate device id 'd1' (also devices[0])" }]],
  ['two devices on one unit of one bus', HEAD + '      - { name: p, address: 0, type: uint16 }\n  - { id: d2, kind: bms, bus: lan, profile: generic-bms }\n', [{ line: 14, path: 'devices[1].unitId', message: "unit 1 on bus lan is already device 'd1'" }]],

  // --- SunSpec devices (CONTRACT.md section 6)
  ['sunspec base address neither auto nor a number', withSunSpec('baseAddress: automatic'), [{ line: 14, path: 'devices[0].sunspec.baseAddress', message: 'must be auto or an integer from 0 to 65532' }]],
  ['sunspec base address past the last register', withSunSpec('baseAddress: 65534'), [{ line: 14, path: 'devices[0].sunspec.baseAddress', message: 'must be an integer from 0 to 65532' }]],
  ['sunspec index 0', withSunSpec('index: 0'), [{ line: 14, path: 'devices[0].sunspec.index', message: 'must be an integer from 1 to 255' }]],
  ['sunspec model id of the end marker', withSunSpec('models: [1, 65535]'), [{ line: 14, path: 'devices[0].sunspec.models[1]', message: 'must be an integer from 1 to 65534' }]],
  ['sunspec models not a list', withSunSpec('models: 103'), [{ line: 14, path: 'devices[0].sunspec.models', message: 'must be a list' }]],
  ['sunspec model listed twice', withSunSpec('models: [1, 103, 1]'), [{ line: 14, path: 'devices[0].sunspec.models[2]', message: 'model 1 is listed twice (also models[0])' }]],
  ['sunspec revert time 0', withSunSpec('revertSeconds: 0'), [{ line: 14, path: 'devices[0].sunspec.revertSeconds', message: 'must be an integer from 1 to 65535' }]],
  ['sunspec key misspelt', withSunSpec('baseAdress: 40000'), [{ line: 14, path: 'devices[0].sunspec.baseAdress', message: 'unknown key (did you mean baseAddress?)' }]],
  ['sunspec block not a map', SUNSPEC.replace('    sunspec:\n', '    sunspec: auto\n'), [{ line: 13, path: 'devices[0].sunspec', message: 'must be a map of settings' }]],
  ['sunspec block on a device of another profile', HEAD.replace('    points:\n', '    profile: generic-inverter\n    sunspec:\n      index: 1\n'), [{ line: 13, path: 'devices[0].sunspec', message: 'applies only to a device with profile: sunspec' }]],
  ['sunspec extra point overlapping another', withSunSpec('index: 1').replace('    sunspec:', '    points:\n      - { name: a, address: 10, type: uint32 }\n      - { name: b, address: 11, type: uint16 }\n    sunspec:'), [{ line: 15, path: 'devices[0].points[1].address', message: "overlaps point 'a' (holding 10..11)" }]],

  // --- points: schema
  ['point table unknown', withPoints('{ name: p, table: holdings, address: 0, type: uint16 }'), [{ line: 13, path: 'devices[0].points[0].table', message: 'must be one of holding, input, coil, discrete' }]],
  ['point type unknown', withPoints('{ name: p, address: 0, type: float }'), [{ line: 13, path: 'devices[0].points[0].type', message: 'must be one of int16, uint16, int32, uint32, int64, uint64, float32, float64, bool, string' }]],
  ['point address negative', withPoints('{ name: p, address: -1, type: uint16 }'), [{ line: 13, path: 'devices[0].points[0].address', message: 'must be an integer from 0 to 65535' }]],
  ['point address missing', withPoints('name: p\n        type: uint16'), [{ line: 13, path: 'devices[0].points[0].address', message: 'required' }]],
  ['point name not matching', withPoints('{ name: 1st, address: 0, type: uint16 }'), [{ line: 13, path: 'devices[0].points[0].name', message: 'must match [A-Za-z][A-Za-z0-9_]{0,63}' }]],
  ['bit above 15', withPoints('{ name: p, address: 0, type: bool, bit: 16 }'), [{ line: 13, path: 'devices[0].points[0].bit', message: 'must be an integer from 0 to 15' }]],
  ['scale 0', withPoints('{ name: p, address: 0, type: uint16, scale: 0 }'), [{ line: 13, path: 'devices[0].points[0].scale', message: 'must be a number other than 0' }]],
  ['word order unknown', withPoints('{ name: p, address: 0, type: uint32, wordOrder: CDAB }'), [{ line: 13, path: 'devices[0].points[0].wordOrder', message: 'must be one of big, little' }]],
  ['unknown point key', withPoints('{ name: p, address: 0, type: uint16, scael: 2 }'), [{ line: 13, path: 'devices[0].points[0].scael', message: 'unknown key (did you mean scale?)' }]],

  // --- points: cross-checks
  ['float32 in a coil', withPoints('{ name: p, table: coil, address: 0, type: float32 }'), [{ line: 13, path: 'devices[0].points[0].type', message: 'float32 does not fit table coil: coils and discrete inputs hold single bits (type bool)' }]],
  ['bit on a coil', withPoints('{ name: p, table: coil, address: 0, type: bool, bit: 2 }'), [{ line: 13, path: 'devices[0].points[0].bit', message: 'applies only to holding and input registers' }]],
  ['bit on a non-bool', withPoints('{ name: p, address: 0, type: uint16, bit: 2 }'), [{ line: 13, path: 'devices[0].points[0].bit', message: 'needs type bool, not uint16' }]],
  ['string without length', withPoints('{ name: p, address: 0, type: string }'), [{ line: 13, path: 'devices[0].points[0].length', message: 'required for type string' }]],
  ['length on a number', withPoints('{ name: p, address: 0, type: uint16, length: 2 }'), [{ line: 13, path: 'devices[0].points[0].length', message: 'applies only to type string' }]],
  ['overlapping points', withPoints('{ name: a, address: 10, type: uint32 }', '{ name: b, address: 11, type: uint16 }'), [{ line: 14, path: 'devices[0].points[1].address', message: "overlaps point 'a' (holding 10..11)" }]],
  ['string overlapping the next point', withPoints('{ name: s, address: 0, type: string, length: 4 }', '{ name: n, address: 3, type: int16 }'), [{ line: 14, path: 'devices[0].points[1].address', message: "overlaps point 's' (holding 0..3)" }]],
  ['point running past 65535', withPoints('{ name: p, address: 65534, type: float64 }'), [{ line: 13, path: 'devices[0].points[0].address', message: 'runs past address 65535 (4 registers from 65534)' }]],
  ['duplicate point name', withPoints('{ name: p, address: 0, type: uint16 }', '{ name: p, address: 1, type: uint16 }'), [{ line: 14, path: 'devices[0].points[1].name', message: "duplicate point name 'p' (also at points[0])" }]],
  ['writable numeric point without limits', withPoints('{ name: p, address: 0, type: uint16, access: readwrite }'), [
    { line: 13, path: 'devices[0].points[0].max', message: 'required for a writable numeric point' },
    { line: 13, path: 'devices[0].points[0].min', message: 'required for a writable numeric point' },
  ]],
  ['min above max', withPoints('{ name: p, address: 0, type: int16, access: write, min: 10, max: 5 }'), [{ line: 13, path: 'devices[0].points[0].min', message: 'must not be greater than max (5)' }]],
  ['limit that does not fit the raw type', withPoints('{ name: p, address: 0, type: uint16, scale: 0.1, access: readwrite, min: 0, max: 10000 }'), [{ line: 13, path: 'devices[0].points[0].max', message: '10000 does not fit the point: raw value 100000 is outside uint16 (0 to 65535)' }]],
  ['writable input register', withPoints('{ name: p, table: input, address: 0, type: uint16, access: readwrite, min: 0, max: 5 }'), [{ line: 13, path: 'devices[0].points[0].access', message: 'input registers are read-only: use table holding' }]],
  ['limits on a bool', withPoints('{ name: p, table: coil, address: 0, type: bool, min: 0 }'), [{ line: 13, path: 'devices[0].points[0].min', message: 'applies only to numeric points, not bool' }]],
  ['scaleFactor naming a missing point', withPoints('{ name: p, address: 0, type: int16, scaleFactor: P_SF }'), [{ line: 13, path: 'devices[0].points[0].scaleFactor', message: "no point 'P_SF' in this device" }]],
  ['scaleFactor naming a non-int16 point', withPoints('{ name: p, address: 0, type: int16, scaleFactor: P_SF }', '{ name: P_SF, address: 1, type: uint16 }'), [{ line: 13, path: 'devices[0].points[0].scaleFactor', message: "point 'P_SF' is uint16; a scale factor must be int16" }]],
  ['device point overlapping a profile point', HEAD.replace('bus: lan', 'bus: lan\n    profile: generic-inverter') + '      - { name: extra, table: input, address: 16, type: uint16 }\n', [
    { line: 14, path: 'devices[0].points[0].address', message: "overlaps point 'dcPower' of profile generic-inverter (input 15..16)" },
  ]],
  ['override turning a scale factor into uint16', HEAD.replace('bus: lan', 'bus: lan\n    profile: generic-inverter') + '      - { name: W_SF, table: input, address: 1, type: uint16 }\n', [
    { line: 12, path: 'devices[0].profile', message: "point 'activePower' of profile generic-inverter: point 'W_SF' is uint16; a scale factor must be int16" },
  ]],

  // --- the file itself
  ['duplicate key', 'site: s\nsite: t\nzookeeper: { connect: "a:1" }\n', [{ line: 2, path: '', message: 'invalid YAML: Map keys must be unique' }]],
  ['YAML syntax error', 'site: s\nzookeeper: { connect: "a:1"\n', [{ line: 3, path: '', message: expect.stringMatching(/^invalid YAML: /) as unknown as string }]],
  ['required key left empty', 'site:\nzookeeper: { connect: "a:1" }\n', [{ line: 1, path: 'site', message: 'required' }]],
  ['empty file', '# nothing here\n', [{ line: 1, path: '', message: 'the file is empty: expected a map of settings (site, zookeeper, buses, devices)' }]],
  ['a list instead of a map', '- site: s\n', [{ line: 1, path: '', message: 'must be a map of settings' }]],
];

describe('bad configs', () => {
  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });
  it.each(cases)('%s', (_name, yaml, expected) => {
    expect(problemsOf(yaml)).toEqual(expected);
  });
});
