// Shared pieces of the bus and device-driver tests: sites built through the real config loader and
// served by the real simulator, bus configs pointing at where the simulator actually listens, and a
// watch for unhandled promise rejections.
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { BusConfig, RtuBusConfig, SiteConfig, TcpBusConfig } from '../../src/config/types.js';
import { SimulatedSite, frozenOptions } from '../../src/simulator/index.js';

export const silentLogger = pino({ level: 'silent' });

/** The head of every test config; `buses:` and `devices:` follow. */
export const SITE_HEAD = `
site: driver-test
agent: { id: driver-test }
zookeeper: { connect: "127.0.0.1:2181" }
`;

/** Parses a config through the real loader; TCP buses then listen on port 0 (the kernel picks). */
export function testConfig(yaml: string): SiteConfig {
  const config = parseConfig(SITE_HEAD + yaml, 'driver-test.yaml');
  for (const bus of config.buses) if (bus.type === 'tcp') bus.port = 0;
  return config;
}

/** A started simulator with frozen physics (values hold still between a read and a compare). */
export async function startSimulator(config: SiteConfig): Promise<SimulatedSite> {
  const site = new SimulatedSite(config, frozenOptions());
  await site.start();
  return site;
}

/** The config of bus `id` as the client must see it: the simulator's actual TCP port. */
export function clientBusConfig(config: SiteConfig, site: SimulatedSite, id: string): BusConfig {
  const bus = config.buses.find((b) => b.id === id);
  if (bus === undefined) throw new RangeError(`no bus ${id}`);
  return bus.type === 'tcp' ? { ...bus, port: site.tcpAddress(id).port } : { ...bus };
}

/** Like clientBusConfig, for a bus that must be TCP. */
export function clientTcpBusConfig(config: SiteConfig, site: SimulatedSite, id: string): TcpBusConfig {
  const bus = clientBusConfig(config, site, id);
  if (bus.type !== 'tcp') throw new RangeError(`bus ${id} is not a TCP bus`);
  return bus;
}

/** The RTU bus `id` as the client must see it: on the other end (`clientPath`) of the pty pair. */
export function clientRtuBusConfig(config: SiteConfig, id: string, clientPath: string): RtuBusConfig {
  const bus = config.buses.find((b) => b.id === id);
  if (bus?.type !== 'rtu') throw new RangeError(`bus ${id} is not an RTU bus`);
  return { ...bus, path: clientPath };
}

/** Records unhandled rejections while installed; `stop()` removes the listener and returns them. */
export function watchUnhandledRejections(): { stop: () => unknown[] } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  return {
    stop: () => {
      process.off('unhandledRejection', onRejection);
      return seen;
    },
  };
}

/** Milliseconds `fn` takes, with its outcome. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const start = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}
