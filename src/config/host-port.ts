// `host:port` as written in the config (http.listen, zookeeper.connect); an IPv6 host is in brackets.

export interface HostPort { host: string; port: number }

/** Splits `127.0.0.1:8780` or `[::1]:8780`; the host comes back without brackets. Null when malformed. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+)):(\d{1,5})$/.exec(text);
  if (m === null) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: m[1] ?? m[2] ?? '', port };
}
