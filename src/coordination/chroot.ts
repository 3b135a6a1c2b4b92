// A connect string may end in a chroot (`zk1:2181,zk2:2181/energy`), as every ZooKeeper client
// accepts: the C client then shows the ensemble's /energy as `/`, natively, for every request and
// watch. When that node does not exist, ZooKeeper answers NONODE for every path under it, which
// names nothing useful. So:
//  - the agent creates it, as it creates gridkeeper's root, when it can: a create of `/` through the
//    chrooted session makes the chroot node itself, which works when its parent exists and lets us;
//  - otherwise, and always for the operator's tools (`status`, `command`: a misspelt chroot must not
//    show an empty site), a ChrootMissingError names the chroot and what to do.
import { ChrootMissingError, isZkError } from './errors.js';
import type { ZkSession } from './session.js';
import type { ZkAcl } from './zk-client.js';

/** `/energy` of `zk1:2181,zk2:2181/energy`; null without a chroot. */
export function chrootOf(connect: string): string | null {
  const slash = connect.indexOf('/');
  return slash < 0 ? null : connect.slice(slash);
}

/** The agent's side: creates the chroot node if missing; ChrootMissingError when it cannot. */
export async function ensureChroot(session: ZkSession, acl: readonly ZkAcl[] | null): Promise<void> {
  const chroot = chrootOf(session.connect);
  if (chroot === null || (await session.exists('/')) !== null) return;
  try {
    await session.create('/', Buffer.alloc(0), 'persistent');
  } catch (err) {
    if (isZkError(err, 'NODEEXISTS')) return; // another agent made it meanwhile
    if (isZkError(err, 'NONODE') || isZkError(err, 'NOAUTH')) {
      const why = isZkError(err, 'NONODE') ? 'its parent is missing too' : 'the ACL of its parent does not let us create it';
      throw new ChrootMissingError(session.connect, chroot, `${why}; create it (${createHint(session.connect, chroot)}) or correct zookeeper.connect`, { cause: err });
    }
    throw err;
  }
  if (acl) await session.setAcl('/', acl);
}

/** The tools' side: ChrootMissingError when the chroot node is missing. They create nothing there. */
export async function requireChroot(session: ZkSession): Promise<void> {
  const chroot = chrootOf(session.connect);
  if (chroot === null || (await session.exists('/')) !== null) return;
  throw new ChrootMissingError(
    session.connect,
    chroot,
    `no agent has used it yet, or it is misspelt (an agent creates it when its parent exists; else ${createHint(session.connect, chroot)})`,
  );
}

function createHint(connect: string, chroot: string): string {
  const firstHost = connect.slice(0, connect.indexOf('/')).split(',')[0] ?? '';
  return `each missing level, e.g. zkCli.sh -server ${firstHost} create ${chroot}`;
}
