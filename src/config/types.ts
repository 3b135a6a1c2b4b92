// Typed, fully resolved configuration: what the rest of the program sees after the YAML has been
// parsed through the strict schema, defaults filled in, profiles merged and cross-checks passed.

export type Table = 'holding' | 'input' | 'coil' | 'discrete';
export type PointType =
  | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'float32' | 'float64' | 'bool' | 'string';
export type Order = 'big' | 'little';
export type Access = 'read' | 'write' | 'readwrite';
export type DeviceKind = 'inverter' | 'turbine' | 'bms' | 'meter' | 'other';
export type Parity = 'none' | 'even' | 'odd';

/** An engineering value as published and as commanded. */
export type PointValue = number | boolean | string;

export interface PointConfig {
  name: string;
  table: Table;          // default holding
  address: number;       // 0-based protocol address, 0..65535
  type: PointType;
  wordOrder: Order;      // default big (high word first)
  byteOrder: Order;      // default big (AB inside each register)
  bit?: number;          // bool taken from one bit of a register, 0 = least significant
  length?: number;       // string: length in registers
  scale: number;         // default 1
  scaleFactor?: string;  // name of an int16 point of the same device holding a power-of-ten exponent
  offset: number;        // default 0
  unit?: string;
  access: Access;        // default read
  min?: number;          // engineering units; required for writable numeric points
  max?: number;
  fallback?: FallbackConfig; // CONTRACT.md section 7: an applied command on the point is held
  /**
   * Engineering units, >= 0, numeric points only (CONTRACT.md section 10): a value that moved less
   * than this since the last published snapshot does not by itself make a new one. Absent: any change.
   */
  deadband?: number;
}

/**
 * What a device does with a point by itself when nobody controls it (CONTRACT.md section 7): the
 * value it returns to, and the device's own timer that gets it there (or a device `watchdog`).
 */
export interface FallbackConfig {
  value: number | boolean;
  /** A writable point of the same device holding the device's timeout, s: programmed with every write. */
  revertTimer?: { point: string; seconds: number };
}

/** A register the lock holder keeps writing; without a write for `everyMs` the device falls back. */
export interface WatchdogConfig {
  point: string;
  everyMs: number;
}

interface BusCommon {
  id: string;
  timeoutMs: number;     // per request; default 1000
  pauseMs: number;       // silence between two requests; default 0 (tcp), 5 (rtu)
  leaderOnly: boolean;   // poll only while holding the site lock; default false
}

export interface TcpBusConfig extends BusCommon {
  type: 'tcp';
  host: string;
  port: number;          // default 502
}

export interface RtuBusConfig extends BusCommon {
  type: 'rtu';
  path: string;
  baudRate: number;      // default 9600
  parity: Parity;        // default none
  dataBits: 7 | 8;       // default 8
  stopBits: 1 | 2;       // default 1
}

export type BusConfig = TcpBusConfig | RtuBusConfig;

/**
 * `profile: sunspec` (CONTRACT.md section 6): the device describes itself with SunSpec models, found
 * at run time by walking its model chain. Set on a device exactly when its profile is `sunspec`.
 */
export interface SunSpecConfig {
  baseAddress: number | 'auto'; // address of the "SunS" marker; auto tries 40000, 0, 50000
  index: number;         // which device of a daisy chain (the n-th model 1 block), 1-based; default 1
  models: number[];      // models the device must have (a missing one makes the device `error`); default none
  revertSeconds: number; // the device's revert timer for held setpoints (section 7), s; default 60
}

export interface DeviceConfig {
  id: string;
  kind: DeviceKind;
  bus: string;           // id of a bus in SiteConfig.buses
  unitId: number;        // 0..247; default 1
  profile?: string;      // built-in profile name, already merged into points; or `sunspec`
  pollIntervalMs: number; // default 1000, at least 100
  /**
   * The profile's points with the device's overrides applied (by name), then the device's extra
   * points. For a SunSpec device only the config's own points: the rest is discovered.
   */
  points: PointConfig[];
  sunspec?: SunSpecConfig;
  watchdog?: WatchdogConfig;
}

export interface ZookeeperConfig {
  connect: string;
  root: string;              // default /gridkeeper
  sessionTimeoutMs: number;  // default 10000
  /**
   * Digest credentials of the agents (file: one line user:password, mode 0600). Extension:
   * `commandIssuers`, ACL ids (scheme:id) that may also create commands; default none.
   */
  auth?: { credentialsFile: string; commandIssuers?: string[] };
}

export interface SiteConfig {
  /** Path of the file this was loaded from (for messages). */
  file: string;
  site: string;
  agent: { id: string };     // default: host name
  zookeeper: ZookeeperConfig;
  publish: {
    intervalMs: number;                     // default 1000
    maxIntervalMs: number;                  // the alive write, changed or not; default 60000 (>= intervalMs)
  };
  control: {
    commandTtlMs: number;                   // default 60000
    verifyWrites: boolean;                  // default true
    resultsKept: number;                    // extension: results kept before pruning; default 1000
    resultsMaxAgeMs: number;                // results older than this by ZooKeeper's clock are pruned; default 7 days
  };
  http: { listen: string | false };         // default "127.0.0.1:8780"
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' }; // extension; default info
  buses: BusConfig[];
  devices: DeviceConfig[];
}
