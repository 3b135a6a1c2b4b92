// The znodes of held setpoints, `setpoints/<device>.<point>` (CONTRACT.md section 7), as the lock
// holder reads and writes them. Written only on the holder's own session, which holds the lock node:
// an ex-holder's session is gone before anyone else holds the lock, and with it any request it could
// still send. With credentials every node gets the site ACL (acl.ts: agents ALL, world READ), so
// nobody else can write one; the library creates it open, so the ACL is set right after the create,
// and a node somebody changed in between (data version other than 0) is written again once closed.
import type { ServerClock } from './server-clock.js';
import { isZkError } from './errors.js';
import type { SitePaths } from './paths.js';
import { parseSetpoint, type SetpointDocument } from './setpoint-document.js';
import type { ZkSession } from './session.js';
import type { ZkAcl } from './zk-client.js';

export interface StoredSetpoint {
  /** `<device>.<point>`. */
  name: string;
  /** The document, or why it is none. */
  setpoint: SetpointDocument | null;
  reason: string | null;
  /** When the node was created, ms, ZooKeeper's clock. */
  ctimeMs: number;
}

export class SetpointStore {
  constructor(
    private readonly opts: { paths: SitePaths; acl: readonly ZkAcl[] | null },
    private readonly deps: { session: ZkSession; serverClock: ServerClock; clock: { monotonicMs(): number } },
  ) {}

  /** Every node under setpoints/, parsed, sorted by name; [] when there is none. */
  async list(): Promise<StoredSetpoint[]> {
    let names: string[];
    try {
      names = await this.deps.session.getChildren(this.opts.paths.setpoints);
    } catch (err) {
      if (isZkError(err, 'NONODE')) return [];
      throw err;
    }
    const out: StoredSetpoint[] = [];
    for (const name of names.sort()) {
      const path = `${this.opts.paths.setpoints}/${name}`;
      try {
        const { data, stat } = await this.deps.session.get(path);
        const parsed = parseSetpoint(data);
        out.push(parsed.ok ? { name, setpoint: parsed.setpoint, reason: null, ctimeMs: stat.ctimeMs } : { name, setpoint: null, reason: parsed.reason, ctimeMs: stat.ctimeMs });
      } catch (err) {
        if (!isZkError(err, 'NONODE')) throw err; // deleted between the listing and the read
      }
    }
    return out;
  }

  /** Whether `<device>.<point>` holds a setpoint now. */
  async exists(device: string, point: string): Promise<boolean> {
    return (await this.deps.session.exists(this.opts.paths.setpoint(device, point))) !== null;
  }

  /** Creates or replaces the node of `doc`. */
  async write(doc: SetpointDocument): Promise<void> {
    const path = this.opts.paths.setpoint(doc.device, doc.point);
    const data = Buffer.from(JSON.stringify(doc));
    const { session } = this.deps;
    const sentMs = this.deps.clock.monotonicMs();
    try {
      const stat = await session.set(path, data);
      this.deps.serverClock.observe(sentMs, this.deps.clock.monotonicMs(), stat.mtimeMs);
      // A node whose ACL was never set (an earlier attempt failed between its create and setAcl) gets it now.
      if (this.opts.acl !== null && stat.aversion === 0) await session.setAcl(path, this.opts.acl);
      return;
    } catch (err) {
      if (!isZkError(err, 'NONODE')) throw err;
    }
    try {
      await session.create(path, data, 'persistent');
    } catch (err) {
      if (!isZkError(err, 'NODEEXISTS')) throw err;
      await session.set(path, data); // created meanwhile (by our own earlier attempt): replace
      return;
    }
    if (this.opts.acl === null) return;
    await session.setAcl(path, this.opts.acl);
    // Open between the create and the setAcl: whatever was written there then is overwritten now.
    const stat = await session.exists(path);
    if (stat !== null && stat.version !== 0) await session.set(path, data);
  }

  /** Deletes the node of `<device>.<point>`; gone already is fine. */
  async remove(device: string, point: string): Promise<void> {
    try {
      await this.deps.session.delete(this.opts.paths.setpoint(device, point));
    } catch (err) {
      if (!isZkError(err, 'NONODE')) throw err;
    }
  }
}
