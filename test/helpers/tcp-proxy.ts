// A TCP proxy on 127.0.0.1 in front of one target (a ZooKeeper server, a Modbus TCP simulator),
// so that a test can break the link the way networks break:
//   freeze()   a silent partition: no byte moves either way, sockets stay open (TCP keeps the
//              bytes buffered, as a real network would after it heals); thaw() lets them through;
//   cutAll()   every open connection is closed (FIN) or reset (RST);
//   refuse()   new connections are closed right after accept, or not accepted at all.
import net from 'node:net';

export interface ProxyTarget {
  host?: string;
  port: number;
}

export interface ProxyCounters {
  /** Connections accepted and forwarded. */
  accepted: number;
  /** Connections turned away while refusing. */
  refused: number;
  /** Connections currently open. */
  active: number;
  /** Connections ended by cutAll(). */
  cut: number;
  /** Bytes forwarded client -> target and target -> client. */
  bytesToTarget: number;
  bytesFromTarget: number;
}

type RefuseMode = 'close' | 'unlisten';

/** One client connection and its upstream twin. */
class Link {
  private pendingClose = false;

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    private readonly proxy: TcpProxy,
  ) {}

  /** Forward `from` to `to`, counting bytes and honouring back-pressure and freeze. */
  forward(from: net.Socket, to: net.Socket, count: (n: number) => void): void {
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!this.proxy.frozen) from.resume();
    });
    from.on('end', () => to.end());
  }

  pause(): void {
    this.client.pause();
    this.upstream.pause();
  }

  resume(): void {
    if (this.pendingClose) {
      this.destroy();
      return;
    }
    this.client.resume();
    this.upstream.resume();
  }

  /** One side closed: the other learns of it now, or when thawed (a partition hides it). */
  onSideClosed(): void {
    if (this.proxy.frozen) this.pendingClose = true;
    else this.destroy();
  }

  destroy(reset = false): void {
    for (const socket of [this.client, this.upstream]) {
      if (reset && !socket.destroyed && socket.readyState !== 'opening') socket.resetAndDestroy();
      else socket.destroy();
    }
  }
}

export class TcpProxy {
  readonly host = '127.0.0.1';
  /** The listening server; a new one after refuse(false) in 'unlisten' mode. Null while not listening. */
  private server: net.Server | null = null;
  private readonly links = new Set<Link>();
  private refusing: RefuseMode | null = null;
  private portNumber = 0;
  private isFrozen = false;
  private readonly stats = { accepted: 0, refused: 0, cut: 0, bytesToTarget: 0, bytesFromTarget: 0 };

  private constructor(readonly target: Required<ProxyTarget>) {}

  /** A proxy listening on a free port of 127.0.0.1, forwarding to `target`. */
  static async start(target: ProxyTarget): Promise<TcpProxy> {
    const proxy = new TcpProxy({ host: target.host ?? '127.0.0.1', port: target.port });
    await proxy.listen(0);
    return proxy;
  }

  get port(): number {
    return this.portNumber;
  }

  /** `127.0.0.1:PORT`, to give to a client in place of the target. */
  get address(): string {
    return `${this.host}:${this.portNumber}`;
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  get counters(): ProxyCounters {
    return { ...this.stats, active: this.links.size };
  }

  /** Stop moving bytes in both directions; connections stay open and new ones are held too. */
  freeze(): void {
    this.isFrozen = true;
    for (const link of this.links) link.pause();
  }

  /** Move bytes again, including those that queued up while frozen. */
  thaw(): void {
    this.isFrozen = false;
    for (const link of [...this.links]) link.resume();
  }

  /** Close every open connection (both sides); `reset` sends RST instead of FIN. Returns how many. */
  cutAll(opts: { reset?: boolean } = {}): number {
    const links = [...this.links];
    this.links.clear();
    for (const link of links) link.destroy(opts.reset ?? false);
    this.stats.cut += links.length;
    return links.length;
  }

  /**
   * While on, new connections are turned away: mode 'close' (default) accepts and closes them at
   * once; mode 'unlisten' closes the listening socket (connection refused) and listens on the same
   * port again when turned off. Open connections are left alone (use cutAll()).
   */
  async refuse(on: boolean, opts: { mode?: RefuseMode } = {}): Promise<void> {
    if (on) {
      this.refusing = opts.mode ?? 'close';
      if (this.refusing === 'unlisten') await this.unlisten();
    } else {
      this.refusing = null;
      if (this.server === null) await this.listen(this.portNumber);
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.refusing = 'close';
    this.cutAll();
    await this.unlisten();
  }

  private onConnection(client: net.Socket): void {
    if (this.refusing !== null) {
      this.stats.refused++;
      client.destroy();
      return;
    }
    this.stats.accepted++;
    const upstream = net.connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    const link = new Link(client, upstream, this);
    this.links.add(link);
    link.forward(client, upstream, (n) => (this.stats.bytesToTarget += n));
    link.forward(upstream, client, (n) => (this.stats.bytesFromTarget += n));
    if (this.isFrozen) link.pause();
    const onClose = (): void => {
      if (client.destroyed && upstream.destroyed) this.links.delete(link);
      else link.onSideClosed();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', () => {}); // 'close' follows and ends the twin; nothing more to do
      socket.on('close', onClose);
    }
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
    return new Promise((resolve, reject) => {
      server.once('error', (err) =>
        reject(new Error(`tcp-proxy: cannot listen on 127.0.0.1:${port}: ${err.message}`, { cause: err })),
      );
      server.listen({ host: this.host, port }, () => {
        const address = server.address();
        if (address !== null && typeof address !== 'string') this.portNumber = address.port;
        this.server = server;
        resolve();
      });
    });
  }

  /** Closes the listening socket. Accepted connections are ours (links) and are not waited for. */
  private unlisten(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return Promise.resolve();
    server.close();
    // The listening handle is closed on the next turn of the event loop; 'close' itself would wait
    // for every accepted connection to end.
    return new Promise((resolve) => setImmediate(resolve));
  }
}

/** Starts a proxy in front of `target` (see TcpProxy). */
export function startTcpProxy(target: ProxyTarget): Promise<TcpProxy> {
  return TcpProxy.start(target);
}
