// Creates the persistent part of the site's tree and puts the ACLs of acl.ts on it. The library's
// create always uses an open ACL, so each node we create gets its ACL right after; a site node that
// already exists with another ACL (e.g. made before credentials were configured) is corrected.
import type { SiteAcls } from './acl.js';
import { sameAcl } from './acl.js';
import { ensureChroot } from './chroot.js';
import { isZkError, ZkError } from './errors.js';
import { ancestors, type SitePaths } from './paths.js';
import type { ZkSession } from './session.js';
import type { ZkAcl } from './zk-client.js';

/**
 * Creates `path` as a persistent node if missing. `acl`: set right after creating; with `enforce`
 * also on an existing node whose ACL differs. Returns true when this call created it.
 */
export async function ensureNode(
  session: ZkSession,
  path: string,
  acl: readonly ZkAcl[] | null,
  opts: { enforce: boolean },
): Promise<boolean> {
  // exists() first: ZooKeeper checks CREATE on the parent before it looks for the node, so a
  // client without that right gets NOAUTH, not NODEEXISTS, for a node that is already there.
  let created = false;
  if ((await session.exists(path)) === null) {
    try {
      await session.create(path, Buffer.alloc(0), 'persistent');
      created = true;
    } catch (err) {
      if (!isZkError(err, 'NODEEXISTS')) throw err;
    }
  }
  if (created) {
    if (acl) await setAclOrExplain(session, path, acl);
    return true;
  }
  if (acl && opts.enforce) {
    const current = await session.getAcl(path);
    if (!sameAcl(current, acl)) await setAclOrExplain(session, path, acl);
  }
  return false;
}

/** Creates `path` and its missing ancestors; ancestors created here get `parentAcl`. */
export async function ensurePath(
  session: ZkSession,
  path: string,
  acl: readonly ZkAcl[] | null,
  parentAcl: readonly ZkAcl[] | null = acl,
): Promise<void> {
  for (const parent of ancestors(path)) await ensureNode(session, parent, parentAcl, { enforce: false });
  await ensureNode(session, path, acl, { enforce: true });
}

/**
 * The chroot of the connect string if missing (chroot.ts), the site node and agents/, readings/,
 * lock/, commands/, results/, conflicts/, setpoints/ with their ACLs.
 */
export async function ensureSiteTree(session: ZkSession, paths: SitePaths, acls: SiteAcls | null): Promise<void> {
  await ensureChroot(session, acls?.parents ?? null);
  for (const parent of ancestors(paths.site)) await ensureNode(session, parent, acls?.parents ?? null, { enforce: false });
  for (const node of paths.siteNodes()) {
    const acl = acls === null ? null : node === paths.commands ? acls.commands : acls.site;
    await ensureNode(session, node, acl, { enforce: true });
  }
}

async function setAclOrExplain(session: ZkSession, path: string, acl: readonly ZkAcl[]): Promise<void> {
  try {
    await session.setAcl(path, acl);
  } catch (err) {
    if (err instanceof ZkError && err.code === 'NOAUTH') {
      throw new ZkError(err.rc, 'setAcl', path, 'the node belongs to other credentials; check zookeeper.auth.credentialsFile');
    }
    throw err;
  }
}
