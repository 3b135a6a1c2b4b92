import { describe, expect, it } from 'vitest';
import { chrootProblem, parseConnectString } from '../../src/config/connect-string.js';
import { parseConfig } from '../../src/config/load.js';

describe('zookeeper.connect with a chroot', () => {
  it.each([
    ['zk1:2181', [{ host: 'zk1', port: 2181 }], null],
    ['zk1:2181,zk2:2181/energy', [{ host: 'zk1', port: 2181 }, { host: 'zk2', port: 2181 }], '/energy'],
    ['[::1]:2181/a/b-c_d.e', [{ host: '::1', port: 2181 }], '/a/b-c_d.e'],
  ])('%s', (text, hosts, chroot) => {
    expect(parseConnectString(text)).toEqual({ hosts, chroot });
    if (chroot !== null) expect(chrootProblem(chroot)).toBeNull();
  });

  it('is accepted by the config and kept whole: the ZooKeeper client applies it', () => {
    const cfg = parseConfig('site: s\nzookeeper:\n  connect: "zk1:2181,zk2:2181/energy"\n', 'c.yaml');
    expect(cfg.zookeeper.connect).toBe('zk1:2181,zk2:2181/energy');
  });

  it.each(['/', '/energy/', '//energy', '/a/./b', '/a b', '/zookeeper'])('refuses the chroot %s', (chroot) => {
    expect(chrootProblem(chroot)).toMatch(/chroot/);
  });
});
