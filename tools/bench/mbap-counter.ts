// A Modbus TCP proxy that counts the requests going through it, by unit id: put between a client
// and a simulator, it says how many requests the simulator received. Bytes pass unchanged.
import net from 'node:net';

const MBAP_HEADER_BYTES = 6; // transaction id, protocol id, length; the length counts the unit id and PDU

export class MbapCounter {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly counts = new Map<number, number>();
  private port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('MbapCounter: no TCP address');
    this.port = address.port;
    return this.port;
  }

  get listenPort(): number {
    return this.port;
  }

  /** Requests seen for `unitId` since the last reset. */
  requests(unitId: number): number {
    return this.counts.get(unitId) ?? 0;
  }

  reset(): void {
    this.counts.clear();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.target);
    this.sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= MBAP_HEADER_BYTES + 1) {
        const frameBytes = MBAP_HEADER_BYTES + pending.readUInt16BE(4);
        if (pending.length < frameBytes) break;
        const unitId = pending[MBAP_HEADER_BYTES] ?? 0;
        this.counts.set(unitId, (this.counts.get(unitId) ?? 0) + 1);
        pending = pending.subarray(frameBytes);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}
