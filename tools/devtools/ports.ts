// Free TCP ports on 127.0.0.1, picked by the kernel (listen on port 0) so that parallel test files
// never collide on a fixed number. All ports of one call are held open together, so they differ.
import net from 'node:net';

/** `count` distinct free ports on 127.0.0.1. A tiny race remains between closing and reuse. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      ports.push(await listenOnFreePort(server));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** One free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error('freePort: no port returned');
  return port;
}

function listenOnFreePort(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error('freePorts: listening socket has no TCP address'));
        return;
      }
      resolve(address.port);
    });
  });
}
