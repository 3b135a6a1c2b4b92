// `zookeeper.connect` as every ZooKeeper client takes it: `host:port[,host:port...][/chroot]`. The
// chroot is a path on the ensemble that this client sees as `/` (`zk1:2181,zk2:2181/energy` puts
// gridkeeper's `/gridkeeper` at `/energy/gridkeeper`); the ZooKeeper C client handles it natively,
// so the string goes to it unchanged and only needs checking here.
import { parseHostPort, type HostPort } from './host-port.js';

/** An absolute path without empty, `.` or `..` segments, without white space or a trailing slash. */
export const ABSOLUTE_PATH_RE = /^(\/(?!\.{1,2}(\/|$))[^/\s]+)+$/;

export interface ConnectString {
  /** One per comma-separated part; null where that part is not host:port. */
  hosts: Array<HostPort | null>;
  /** `/energy`, or null without a chroot. */
  chroot: string | null;
}

/** Splits at the first `/`: hosts before it, the chroot from it (an IPv6 host has none: `[::1]:2181`). */
export function parseConnectString(text: string): ConnectString {
  const slash = text.indexOf('/');
  const hosts = slash < 0 ? text : text.slice(0, slash);
  return { hosts: hosts.split(',').map(parseHostPort), chroot: slash < 0 ? null : text.slice(slash) };
}

/** Why `chroot` cannot be one, or null when it can. */
export function chrootProblem(chroot: string): string | null {
  if (!ABSOLUTE_PATH_RE.test(chroot)) {
    return `the chroot '${chroot}' must be an absolute path like /energy: no empty, . or .. parts, no trailing slash`;
  }
  if (chroot === '/zookeeper' || chroot.startsWith('/zookeeper/')) return `the chroot '${chroot}' is inside /zookeeper, ZooKeeper's own subtree`;
  return null;
}
