// The ZooKeeper tree of one site (CONTRACT.md section 3), under `<root>/sites/<site>/`:
//   agents/<agentId>            ephemeral, the agent document
//   readings/<agentId>          ephemeral, the readings snapshot
//   lock/<anything>lock-<10 d>  ephemeral sequential, the site lock
//   commands/cmd-<10 digits>    persistent sequential, submitted commands
//   results/cmd-<10 digits>     persistent, one result per command

const SEQUENCE_DIGITS = 10;

export class SitePaths {
  readonly root: string;
  readonly sites: string;
  readonly site: string;
  readonly agents: string;
  readonly readings: string;
  readonly lock: string;
  readonly commands: string;
  readonly results: string;

  constructor(root: string, readonly siteId: string) {
    this.root = normaliseRoot(root);
    this.sites = join(this.root, 'sites');
    this.site = join(this.sites, siteId);
    this.agents = join(this.site, 'agents');
    this.readings = join(this.site, 'readings');
    this.lock = join(this.site, 'lock');
    this.commands = join(this.site, 'commands');
    this.results = join(this.site, 'results');
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

  /** results/cmd-N for commands/cmd-N (same name). */
  result(commandName: string): string {
    return join(this.results, commandName);
  }

  /** The persistent nodes of the site, parents first. */
  siteNodes(): string[] {
    return [this.site, this.agents, this.readings, this.lock, this.commands, this.results];
  }
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
