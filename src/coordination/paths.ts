// The ZooKeeper tree of one site (CONTRACT.md section 3), under `<root>/sites/<site>/`:
//   agents/<agentId>            ephemeral, the agent document
//   readings/<agentId>          ephemeral, the readings snapshot
//   lock/<anything>lock-<10 d>  ephemeral sequential, the site lock
//   commands/cmd-<10 digits>    persistent sequential, submitted commands
//   results/cmd-<10 digits>     persistent, one result per command
//   conflicts/<agentId>@<host>:<pid>  ephemeral, an agent that found its id taken by another live
//                               agent (agent-conflict.ts); not an agent: it publishes nothing else
//   setpoints/<device>.<point>  persistent, a held setpoint (CONTRACT.md section 7), written by the
//                               lock holder (held-setpoints.ts), read by it and by the site view
// The node-name prefixes live here and nowhere else.

const SEQUENCE_DIGITS = 10;

/** `zookeeper.root` when a config or a command line names none. */
export const DEFAULT_ROOT = '/gridkeeper';
/** Name of a command znode, and of its result: `cmd-` and the 10 digits ZooKeeper appends. */
export const COMMAND_PREFIX = 'cmd-';
/** Mark before the 10 digits of a lock znode: `<anything>lock-0000000007`. */
export const LOCK_PREFIX = 'lock-';

export class SitePaths {
  readonly root: string;
  readonly sites: string;
  readonly site: string;
  readonly agents: string;
  readonly readings: string;
  readonly lock: string;
  readonly commands: string;
  readonly results: string;
  readonly conflicts: string;
  readonly setpoints: string;

  constructor(root: string, readonly siteId: string) {
    this.root = normaliseRoot(root);
    this.sites = join(this.root, 'sites');
    this.site = join(this.sites, siteId);
    this.agents = join(this.site, 'agents');
    this.readings = join(this.site, 'readings');
    this.lock = join(this.site, 'lock');
    this.commands = join(this.site, 'commands');
    this.results = join(this.site, 'results');
    this.conflicts = join(this.site, 'conflicts');
    this.setpoints = join(this.site, 'setpoints');
  }

  agent(agentId: string): string {
    return join(this.agents, agentId);
  }

  reading(agentId: string): string {
    return join(this.readings, agentId);
  }

  lockNode(name: string): string {
    return join(this.lock, name);
  }

  command(name: string): string {
    return join(this.commands, name);
  }

  /** What to create, persistent sequential, to submit a command: ZooKeeper appends the 10 digits. */
  newCommand(): string {
    return join(this.commands, COMMAND_PREFIX);
  }

  /** results/cmd-N for commands/cmd-N (same name). */
  result(commandName: string): string {
    return join(this.results, commandName);
  }

  /** `conflicts/<agentId>@<host>:<pid>`: the trace of an agent whose id another live agent holds. */
  conflict(agentId: string, host: string, pid: number): string {
    return join(this.conflicts, `${agentId}@${host}:${pid}`);
  }

  /** `setpoints/<device>.<point>`: a point name has no dot, so the name splits at its last one. */
  setpoint(device: string, point: string): string {
    return join(this.setpoints, setpointName(device, point));
  }

  /** The persistent nodes of the site, parents first. */
  siteNodes(): string[] {
    return [this.site, this.agents, this.readings, this.lock, this.commands, this.results, this.conflicts, this.setpoints];
  }
}

/** `<device>.<point>`, the name of a held setpoint's node. */
export function setpointName(device: string, point: string): string {
  return `${device}.${point}`;
}

/** The last part of a path: the name of the node a sequential create made. */
export function nodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `<uuid>-lock-0000000007` => `lock-0000000007`: the part of a lock node the contract names. */
export function lockName(child: string): string {
  const at = child.lastIndexOf(LOCK_PREFIX);
  return at < 0 ? child : child.slice(at);
}

/** `/a/b` + `c` = `/a/b/c`; the root `/` joins as `/c`. */
export function join(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Every proper ancestor of `path`, top first: `/a/b/c` => [`/a`, `/a/b`]. */
export function ancestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/** `/gridkeeper/` => `/gridkeeper`; must be absolute. */
export function normaliseRoot(root: string): string {
  if (!root.startsWith('/')) throw new TypeError(`zookeeper.root must start with '/', got '${root}'`);
  const trimmed = root.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** The sequence number ZooKeeper appended to `name` (its last 10 digits after `prefix`), or null. */
export function sequenceOf(name: string, prefix: string): number | null {
  const m = new RegExp(`${escapeRegExp(prefix)}(\\d{${SEQUENCE_DIGITS}})$`).exec(name);
  return m?.[1] === undefined ? null : Number(m[1]);
}

/** Children whose names end in `prefix` + 10 digits, sorted by that number, lowest first. */
export function sortBySequence(names: readonly string[], prefix: string): { name: string; seq: number }[] {
  const out: { name: string; seq: number }[] = [];
  for (const name of names) {
    const seq = sequenceOf(name, prefix);
    if (seq !== null) out.push({ name, seq });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
