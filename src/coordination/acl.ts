// Who may do what under `<root>/sites/<site>/`.
//
// With digest credentials (zookeeper.auth.credentialsFile):
//  - every znode of the site: the agents' digest identity ALL, `world:anyone` READ (status, dashboards);
//  - `commands/` additionally grants CREATE to each configured command issuer. Decision: issuers are
//    an explicit list of ZooKeeper ACL ids (`scheme:id`, e.g. `digest:ems:<base64 sha1>`,
//    `ip:10.1.2.0/24`, or `world:anyone` to let anyone submit), not a single "open commands" flag:
//    a list can be as open or as narrow as a site needs, and it names who can move the hardware.
//    With no issuers listed, only clients holding the agents' credentials (e.g. `gridkeeper command`
//    run with the same credentials file) can submit commands. Issuers get CREATE only: they cannot
//    delete other commands, nor touch results, the lock, or agents' nodes.
//  - parents we create above the site (`<root>`, `<root>/sites`, a missing chroot): world READ and
//    CREATE, and nothing more for anyone, our identity included. Other sites (other credentials)
//    share them and must still add their site node there; the first site to arrive must not own
//    them: with ALL it could delete another site's node or take CREATE away from the sites after it
//    (site isolation, CONTRACT.md section 10). Changing or deleting them takes the ensemble's super
//    user, or parents made beforehand by an operator with an ACL of their choosing (we leave an
//    existing parent's ACL alone).
// Without credentials everything stays open (world ALL), as the client library creates it.
//
// The library creates every znode with an open ACL (no way to pass one), so each node we create gets
// its ACL set right after the create; the parent's ACL is what keeps strangers from creating there.
import { ZK_PERM, type ZkAcl } from './zk-client.js';

export interface SiteAcls {
  /** ACL of the site node and its children (agents/, readings/, lock/, results/ and their nodes). */
  site: ZkAcl[];
  /** ACL of `commands/`: the site ACL plus CREATE for the command issuers. */
  commands: ZkAcl[];
  /** ACL of the shared parents above the site that we create. */
  parents: ZkAcl[];
}

/**
 * The ACLs for a site, or null without credentials (leave the library's open ACL).
 * `digestId` is `user:base64hash` (credentials.ts); `commandIssuers` are `scheme:id` strings.
 */
export function siteAcls(digestId: string | null, commandIssuers: readonly string[] = []): SiteAcls | null {
  if (digestId === null) return null;
  const owner: ZkAcl = { scheme: 'digest', id: digestId, perms: ZK_PERM.ALL };
  const readers: ZkAcl = { scheme: 'world', id: 'anyone', perms: ZK_PERM.READ };
  const site = [owner, readers];
  const issuers = commandIssuers.map(parseAclId).map((a) => ({ ...a, perms: a.scheme === 'world' ? ZK_PERM.READ | ZK_PERM.CREATE : ZK_PERM.CREATE }));
  // world:anyone already has READ; merge so that the ACL holds each id once.
  const commands = mergeAcl([...site, ...issuers]);
  const parents = [{ scheme: 'world', id: 'anyone', perms: ZK_PERM.READ | ZK_PERM.CREATE }];
  return { site, commands, parents };
}

/**
 * The ACL of a command node created by our operator client (`gridkeeper command`). The library
 * creates it world-writable; until it is closed anyone could rewrite the command before the holder
 * reads it, which the holder catches by the node's data version (command-queue.ts). Closed: readable
 * by all (the agents read it, and delete it through the ACL of commands/, not of the node), changed
 * by nobody but the issuer's own identity, if it has one.
 */
export function commandNodeAcl(issuerDigestId: string | null): ZkAcl[] {
  const readers: ZkAcl = { scheme: 'world', id: 'anyone', perms: ZK_PERM.READ };
  return issuerDigestId === null ? [readers] : [{ scheme: 'digest', id: issuerDigestId, perms: ZK_PERM.ALL }, readers];
}

/** `digest:user:hash` => {scheme: digest, id: user:hash}; `world:anyone`; `ip:10.0.0.0/8`. */
export function parseAclId(text: string): Omit<ZkAcl, 'perms'> {
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon) : '';
  const id = colon > 0 ? text.slice(colon + 1) : '';
  if (!/^[a-z0-9]+$/i.test(scheme) || id === '') {
    throw new TypeError(`ACL id must be scheme:id (e.g. digest:user:hash, ip:10.0.0.0/8, world:anyone), got '${text}'`);
  }
  return { scheme, id };
}

/** Same entries regardless of order and of duplicates. */
export function sameAcl(a: readonly ZkAcl[], b: readonly ZkAcl[]): boolean {
  const key = (acl: readonly ZkAcl[]): string =>
    mergeAcl(acl)
      .map((e) => `${e.scheme}:${e.id}:${e.perms}`)
      .sort()
      .join('|');
  return key(a) === key(b);
}

function mergeAcl(entries: readonly ZkAcl[]): ZkAcl[] {
  const byId = new Map<string, ZkAcl>();
  for (const e of entries) {
    const k = `${e.scheme}:${e.id}`;
    const prev = byId.get(k);
    byId.set(k, { ...e, perms: (prev?.perms ?? 0) | e.perms });
  }
  return [...byId.values()];
}
