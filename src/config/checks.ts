// Cross-checks between parts of the config: references between buses and devices, uniqueness, the
// write-timing safety rule, each device's merged points, and held setpoints' fallbacks and timing
// (fallback-checks.ts). Run on every part that passed the schema on its own, so that one broken
// device does not hide the problems of the others.
import { checkHeldSetpoints } from './fallback-checks.js';
import { checkDuplicateNames, checkPoint, checkPointSet, type Finding, type LocatedPoint } from './point-checks.js';
import { DEFAULT_TIMEOUT_MS } from './resolve.js';
import { SUNSPEC_PROFILE, type RawBus, type RawDevice } from './schema.js';

export interface Indexed<T> { index: number; value: T }

export interface SiteView {
  /** Undefined when the zookeeper section itself is invalid (its problem is reported by the schema). */
  sessionTimeoutMs: number | undefined;
  buses: Indexed<RawBus>[];
  /** Ids of all bus entries, also of those the schema refused, so that devices on them are not reported too. */
  busIds: string[];
  devices: Indexed<RawDevice>[];
  /** The merged points of each device in `devices` whose profile could be read, by device index. */
  points: Map<number, LocatedPoint[]>;
  /** Names of the built-in profiles. */
  profileNames: string[];
}

export function checkSite(view: SiteView): Finding[] {
  return [...checkBuses(view), ...checkDevices(view), ...checkHeldSetpoints(view)];
}

function checkBuses(view: SiteView): Finding[] {
  const out: Finding[] = [];
  const ids = new Map<string, number>();
  const endpoints = new Map<string, string>();
  for (const { index, value: bus } of view.buses) {
    const earlier = ids.get(bus.id);
    if (earlier !== undefined) out.push({ path: ['buses', index, 'id'], message: `duplicate bus id '${bus.id}' (also buses[${earlier}])` });
    else ids.set(bus.id, index);

    // One owner per physical bus: two bus entries for one port would run two masters on it.
    const endpoint = bus.type === 'tcp' ? `${bus.host}:${bus.port ?? 502}` : bus.path;
    const owner = endpoints.get(`${bus.type} ${endpoint}`);
    if (owner !== undefined) {
      out.push(
        bus.type === 'tcp'
          ? { path: ['buses', index, 'host'], message: `${endpoint} is already bus '${owner}': put all devices behind one host:port on one bus` }
          : { path: ['buses', index, 'path'], message: `${endpoint} is already bus '${owner}': put all devices of one serial port on one bus` },
      );
    } else {
      endpoints.set(`${bus.type} ${endpoint}`, bus.id);
    }

    if (view.sessionTimeoutMs !== undefined) {
      const limitMs = Math.floor(view.sessionTimeoutMs / 4);
      if ((bus.timeoutMs ?? DEFAULT_TIMEOUT_MS) > limitMs) {
        out.push({
          path: ['buses', index, 'timeoutMs'],
          message:
            `must be at most zookeeper.sessionTimeoutMs / 4 = ${limitMs}: a write in flight must end ` +
            'before the ZooKeeper session can expire and another agent take the site lock',
        });
      }
    }
  }
  return out;
}

function checkDevices(view: SiteView): Finding[] {
  const out: Finding[] = [];
  const busIds = new Set(view.busIds);
  const ids = new Map<string, number>();
  const units = new Map<string, string>();
  for (const { index, value: device } of view.devices) {
    const path = ['devices', index] as const;
    const earlier = ids.get(device.id);
    if (earlier !== undefined) out.push({ path: [...path, 'id'], message: `duplicate device id '${device.id}' (also devices[${earlier}])` });
    else ids.set(device.id, index);

    const bus = view.buses.find((b) => b.value.id === device.bus)?.value;
    if (bus?.type === 'rtu' && device.unitId === 0) {
      out.push({ path: [...path, 'unitId'], message: 'unit 0 is the RTU broadcast address: no device answers there' });
    }
    if (!busIds.has(device.bus)) {
      const known = [...busIds].join(', ');
      out.push({ path: [...path, 'bus'], message: `unknown bus '${device.bus}' (${known === '' ? 'no buses are defined' : `buses: ${known}`})` });
    } else {
      const unitId = device.unitId ?? 1;
      const key = `${device.bus} ${unitId}`;
      const other = units.get(key);
      if (other !== undefined) out.push({ path: [...path, 'unitId'], message: `unit ${unitId} on bus ${device.bus} is already device '${other}'` });
      else units.set(key, device.id);
    }

    if (device.profile !== undefined && device.profile !== SUNSPEC_PROFILE && !view.profileNames.includes(device.profile)) {
      const known = [...view.profileNames, SUNSPEC_PROFILE].join(', ');
      out.push({ path: [...path, 'profile'], message: `unknown profile '${device.profile}' (built-in: ${known})` });
    }
    out.push(...checkSunSpec(index, device));
    out.push(...checkDevicePoints(index, device, view.points.get(index)));
  }
  return out;
}

function checkDevicePoints(index: number, device: RawDevice, merged: LocatedPoint[] | undefined): Finding[] {
  const own: LocatedPoint[] = (device.points ?? []).map((point, j) => ({ point, path: ['devices', index, 'points', j] }));
  const out = [...own.flatMap(checkPoint), ...checkDuplicateNames(own)];
  if (merged === undefined) return out; // its profile is unknown or broken; reported elsewhere
  if (merged.length === 0 && device.profile !== SUNSPEC_PROFILE) {
    out.push({ path: ['devices', index, 'points'], message: 'required: a device needs a profile or points' });
  }
  return [...out, ...checkPointSet(merged, 'device')];
}

/** The `sunspec:` block: only with `profile: sunspec`, each required model listed once. */
function checkSunSpec(index: number, device: RawDevice): Finding[] {
  const block = device.sunspec;
  if (block === undefined) return [];
  const path = ['devices', index, 'sunspec'] as const;
  if (device.profile !== SUNSPEC_PROFILE) {
    return [{ path, message: `applies only to a device with profile: ${SUNSPEC_PROFILE}` }];
  }
  const out: Finding[] = [];
  const seen = new Map<number, number>();
  (block.models ?? []).forEach((model, i) => {
    const first = seen.get(model);
    if (first !== undefined) out.push({ path: [...path, 'models', i], message: `model ${model} is listed twice (also models[${first}])` });
    else seen.set(model, i);
  });
  return out;
}
