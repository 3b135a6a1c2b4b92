// AgentConflict: what an agent does about another live agent holding `agents/<our id>` (a cloned SD
// card keeps its host name and its site file). The coordinator does not publish or queue for the
// lock while that lasts (site-coordinator.ts); this part makes it visible, without exiting (an exit
// would only be a restart loop under systemd):
//  - one error line naming the other's host and pid (from its agent document) and ours;
//  - `duplicateOf` for /healthz;
//  - an ephemeral node `conflicts/<agentId>@<host>:<pid>` with
//    {"agentId","host","pid","since","conflictsWith":{"host","pid","sessionId"}}, so that
//    `gridkeeper status` can name both. Outside agents/ on purpose: a reader of the contract's tree
//    sees one agent per id there, the one that publishes.
// When the other's node goes, `clear()` says so once and deletes our conflict node; the coordinator
// then publishes and queues as usual.
import type { Logger } from 'pino';
import type { Clock, CorrectedClock } from '../clock.js';
import { EphemeralNode } from './ephemeral-node.js';
import type { DuplicateAgentError } from './errors.js';
import type { SitePaths } from './paths.js';
import type { ZkSession } from './session.js';
import type { ZkAcl } from './zk-client.js';

/** The other live agent with our id, as /healthz shows it. */
export interface DuplicateOf {
  host: string | null;
  pid: number | null;
  /** When we found that it is live (it outlived a session timeout), ISO 8601. */
  since: string;
  /** Its ZooKeeper session, `0x...`. */
  sessionId: string;
}

export interface AgentConflictOptions {
  paths: SitePaths;
  agentId: string;
  /** Ours, as in our agent document. */
  host: string;
  pid: number;
  acl: readonly ZkAcl[] | null;
}

export class AgentConflict {
  private readonly log: Logger;
  private node: EphemeralNode | null = null;
  private currentValue: DuplicateOf | null = null;
  private document = Buffer.alloc(0);

  constructor(
    private readonly opts: AgentConflictOptions,
    private readonly deps: { session: ZkSession; logger: Logger; clock: Clock; wallClock: CorrectedClock },
  ) {
    this.log = deps.logger.child({ component: 'agent-conflict' });
  }

  /** The other agent while it holds our node, else null. */
  get current(): DuplicateOf | null {
    return this.currentValue;
  }

  /** The agents/ node stayed another live session's for a session timeout. */
  report(err: DuplicateAgentError): void {
    if (this.currentValue?.sessionId === err.ownerSessionId) return;
    const other = { host: err.holder.host, pid: err.holder.pid, sessionId: err.ownerSessionId };
    this.currentValue = { ...other, since: this.deps.wallClock.isoNow() };
    this.log.error(
      { agentId: this.opts.agentId, duplicateOf: { ...other, startedAt: err.holder.startedAt }, self: { host: this.opts.host, pid: this.opts.pid } },
      `another live agent has agent id ${this.opts.agentId}: host ${err.holder.host ?? '?'} pid ${err.holder.pid ?? '?'} ` +
        `(session ${err.ownerSessionId}); this one (host ${this.opts.host} pid ${this.opts.pid}) polls but neither publishes ` +
        'nor queues for the lock until it goes: give each agent its own agent.id, or stop one of them',
    );
    this.document = Buffer.from(
      JSON.stringify({ agentId: this.opts.agentId, host: this.opts.host, pid: this.opts.pid, since: this.currentValue.since, conflictsWith: other }),
    );
    if (this.node === null) {
      this.node = new EphemeralNode(
        { path: this.opts.paths.conflict(this.opts.agentId, this.opts.host, this.opts.pid), render: () => this.document, minIntervalMs: 1000, acl: this.opts.acl },
        { session: this.deps.session, logger: this.log, clock: this.deps.clock },
      );
      this.node.on('error', (e) => this.log.warn({ err: e }, 'conflict node not written'));
      this.node.start();
    } else {
      this.node.changed();
    }
  }

  /** Our agents/ node is ours now: the other is gone. */
  async clear(): Promise<void> {
    const was = this.currentValue;
    if (was === null) return;
    this.currentValue = null;
    this.log.info(
      { agentId: this.opts.agentId, was: { host: was.host, pid: was.pid, sessionId: was.sessionId } },
      'the other agent with our id is gone: publishing and queueing for the site lock',
    );
    await this.close();
  }

  async close(): Promise<void> {
    const node = this.node;
    this.node = null;
    await node?.close();
  }
}
