// The one strict schema of the config file and of profile points. Every key is optional where the
// contract gives a default (defaults are filled in by resolve.ts, which needs to know what was
// written); unknown keys are errors. Messages are ours, written for operators: zod's own texts
// never reach them (see issues.ts).
import * as z from 'zod';
import { ABSOLUTE_PATH_RE, chrootProblem, parseConnectString } from './connect-string.js';
import { parseHostPort } from './host-port.js';
import { DEFAULT_PUBLISH_INTERVAL_MS } from './resolve.js';

type Issue = { input?: unknown };
/** `message` for a wrong value, `required` for a missing one. */
const err = (message: string) => ({ error: (iss: Issue) => (iss.input === undefined ? 'required' : message) });

const intIn = (lo: number, hi: number) => {
  const m = err(`must be an integer from ${lo} to ${hi}`);
  return z.int(m).min(lo, m).max(hi, m);
};
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, err(`must be one of ${values.join(', ')}`));
const finite = () => z.number(err('must be a number'));
const bool = () => z.boolean(err('must be true or false'));
const matching = (re: RegExp, shown: string) => {
  const m = err(`must match ${shown}`);
  return z.string(m).regex(re, m);
};
const list = <T extends z.ZodType>(item: T) => z.array(item, err('must be a list'));
const map = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, err('must be a map of settings'));

export const SITE_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;
export const ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
export const POINT_NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const PROFILE_NAME_RE = /^[a-z0-9][a-z0-9-]{0,63}$/;

const id = () => matching(ID_RE, '[A-Za-z0-9_.-]{1,64}');
const pointName = () => matching(POINT_NAME_RE, '[A-Za-z][A-Za-z0-9_]{0,63}');

export const TABLES = ['holding', 'input', 'coil', 'discrete'] as const;
export const POINT_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'bool', 'string'] as const;
export const DEVICE_KINDS = ['inverter', 'turbine', 'bms', 'meter', 'other'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** Longest string point, in registers: what one read request can carry. */
export const MAX_STRING_REGISTERS = 125;

/** Longest revert timer a fallback may name, s: a day; a device holding a value longer is not "falling back". */
export const MAX_REVERT_SECONDS = 86_400;

// CONTRACT.md section 7: what the device does by itself when nobody controls it (fallback-checks.ts).
const fallbackSchema = map({
  value: z.union([finite(), bool()], err('must be a number, or true or false')),
  revertTimer: map({ point: pointName(), seconds: intIn(1, MAX_REVERT_SECONDS) }).optional(),
});

export const pointSchema = map({
  name: pointName(),
  table: oneOf(TABLES).optional(),
  address: intIn(0, 65535),
  type: oneOf(POINT_TYPES),
  wordOrder: oneOf(['big', 'little']).optional(),
  byteOrder: oneOf(['big', 'little']).optional(),
  bit: intIn(0, 15).optional(),
  length: intIn(1, MAX_STRING_REGISTERS).optional(),
  scale: finite().refine((v) => v !== 0, { error: 'must be a number other than 0' }).optional(),
  scaleFactor: pointName().optional(),
  offset: finite().optional(),
  unit: z.string(err('must be a string')).optional(),
  access: oneOf(['read', 'write', 'readwrite']).optional(),
  min: finite().optional(),
  max: finite().optional(),
  fallback: fallbackSchema.optional(),
  // CONTRACT.md section 10: a move smaller than this (engineering units) does not by itself publish.
  deadband: z.number(err('must be a number of at least 0')).min(0, err('must be a number of at least 0')).optional(),
});
export type RawPoint = z.infer<typeof pointSchema>;

export const profileSchema = map({
  description: z.string(err('must be a string')).optional(),
  points: list(pointSchema),
});

const busCommon = {
  id: id(),
  timeoutMs: intIn(1, 600_000).optional(),
  pauseMs: intIn(0, 60_000).optional(),
  leaderOnly: bool().optional(),
};

export const tcpBusSchema = map({
  ...busCommon,
  type: z.literal('tcp'),
  // A name, an IPv4 or a bare IPv6 address (the port is its own key, so no brackets).
  host: matching(/^[^\s/[\]]+$/, 'a host name or IP address'),
  port: intIn(1, 65535).optional(),
});

export const rtuBusSchema = map({
  ...busCommon,
  type: z.literal('rtu'),
  path: matching(/^\S+$/, 'a serial device path'),
  baudRate: intIn(1, 10_000_000).optional(),
  parity: oneOf(['none', 'even', 'odd']).optional(),
  dataBits: z.union([z.literal(7), z.literal(8)], err('must be 7 or 8')).optional(),
  stopBits: z.union([z.literal(1), z.literal(2)], err('must be 1 or 2')).optional(),
});

export const busSchema = z.discriminatedUnion('type', [tcpBusSchema, rtuBusSchema], {
  error: (iss) => {
    const input: unknown = iss.input;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return 'must be a map of settings';
    return (input as { type?: unknown }).type === undefined ? 'required' : 'must be one of tcp, rtu';
  },
});
export type RawBus = z.infer<typeof busSchema>;

/** The profile name of devices that describe themselves with SunSpec models (no file in profiles/). */
export const SUNSPEC_PROFILE = 'sunspec';

// SunSpec model ids are 1..65534 (0xFFFF is the end marker); a chain holds at most 255 devices here.
const modelId = () => intIn(1, 65534);

export const sunspecSchema = map({
  // The "SunS" marker takes two registers, the first model header two more.
  baseAddress: z.union([z.literal('auto'), intIn(0, 65532)], err('must be auto or an integer from 0 to 65532')).optional(),
  index: intIn(1, 255).optional(),
  models: list(modelId()).optional(),
  // Model 123's revert timer is a uint16 of seconds.
  revertSeconds: intIn(1, 65535).optional(),
});
export type RawSunSpec = z.infer<typeof sunspecSchema>;

export const deviceSchema = map({
  id: id(),
  kind: oneOf(DEVICE_KINDS),
  bus: id(),
  unitId: intIn(0, 247).optional(),
  profile: matching(PROFILE_NAME_RE, '[a-z0-9][a-z0-9-]{0,63}').optional(),
  pollIntervalMs: intIn(100, 86_400_000).optional(),
  points: list(pointSchema).optional(),
  sunspec: sunspecSchema.optional(),
  // A register the lock holder keeps writing; the device drops to its fallback when it stops (section 7).
  watchdog: map({ point: pointName(), everyMs: intIn(100, 86_400_000) }).optional(),
});
export type RawDevice = z.infer<typeof deviceSchema>;

const hostPorts = (s: string) => parseConnectString(s).hosts;
const isConnect = (s: string): boolean => hostPorts(s).every((hp) => hp !== null);
const isListen = (s: string): boolean => parseHostPort(s) !== null;
const CONNECT_FORM = 'must be host:port[,host:port...][/chroot]';

export const sessionTimeout = intIn(1000, 600_000);

export const configSchema = map({
  site: matching(SITE_RE, '[a-z0-9][a-z0-9-]{0,63}'),
  agent: map({ id: id().optional() }).optional(),
  zookeeper: map({
    connect: z
      .string(err(CONNECT_FORM))
      .refine(isConnect, { error: CONNECT_FORM, abort: true })
      .refine((s) => hostPorts(s).every((hp) => hp !== null && hp.port >= 1), { error: 'ports must be from 1 to 65535' })
      .superRefine((s, ctx) => {
        const chroot = parseConnectString(s).chroot;
        const problem = chroot === null ? null : chrootProblem(chroot);
        if (problem !== null) ctx.addIssue({ code: 'custom', message: problem, input: s });
      }),
    root: z
      .string(err('must be an absolute path like /gridkeeper'))
      .regex(ABSOLUTE_PATH_RE, { error: 'must be an absolute path like /gridkeeper' })
      .optional(),
    sessionTimeoutMs: sessionTimeout.optional(),
    auth: map({
      credentialsFile: z
        .string(err('must be an absolute path'))
        .regex(/^\/\S*[^/\s]$/, { error: 'must be an absolute path' }),
      // Extension: ZooKeeper ACL ids (scheme:id) that may create commands besides the agents.
      commandIssuers: z
        .array(
          z.string(err('must be a ZooKeeper ACL id like digest:ems:BASE64HASH, ip:10.0.0.0/8 or world:anyone')).regex(/^(digest|ip|world|sasl|x509):\S+$/, {
            error: 'must be a ZooKeeper ACL id like digest:ems:BASE64HASH, ip:10.0.0.0/8 or world:anyone',
          }),
          err('must be a list of ZooKeeper ACL ids'),
        )
        .optional(),
    }).optional(),
  }),
  publish: map({ intervalMs: intIn(10, 3_600_000).optional(), maxIntervalMs: intIn(10, 86_400_000).optional() })
    .superRefine((p, ctx) => {
      // The alive write (CONTRACT.md section 10) cannot come more often than any write may.
      const intervalMs = p.intervalMs ?? DEFAULT_PUBLISH_INTERVAL_MS;
      if (p.maxIntervalMs !== undefined && p.maxIntervalMs < intervalMs) {
        ctx.addIssue({ code: 'custom', path: ['maxIntervalMs'], input: p.maxIntervalMs, message: `must be at least publish.intervalMs (${intervalMs})` });
      }
    })
    .optional(),
  control: map({
    commandTtlMs: intIn(1, 86_400_000).optional(),
    verifyWrites: bool().optional(),
    resultsKept: intIn(1, 1_000_000).optional(),
    // Results older than this by ZooKeeper's clock are pruned too (CONTRACT.md section 10); at most a year.
    resultsMaxAgeMs: intIn(1000, 31_536_000_000).optional(),
  }).optional(),
  http: map({
    listen: z
      .union([z.literal(false), z.string()], err('must be "host:port" or false'))
      .refine((v) => v === false || isListen(v), { error: 'must be "host:port" or false' })
      .optional(),
  }).optional(),
  log: map({ level: oneOf(LOG_LEVELS).optional() }).optional(),
  buses: list(busSchema).optional(),
  devices: list(deviceSchema).optional(),
});
export type RawConfig = z.infer<typeof configSchema>;
