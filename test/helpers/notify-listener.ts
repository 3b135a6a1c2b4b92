// systemd's end of sd_notify(3) for tests: a unix datagram socket (unix-dgram, as the agent uses)
// bound to a path in a temp dir, recording every datagram with the time it was read.
//
//   const listener = NotifyListener.open();
//   ... start something with NOTIFY_SOCKET=listener.path ...
//   await listener.waitFor('READY=1', (m) => m.fields.get('READY') === '1', 10_000);
//   listener.pings();   // arrival times (performance.now() ms) of every WATCHDOG=1
//   listener.close();
import path from 'node:path';
import unixDgram, { type UnixDgramSocket } from 'unix-dgram';
import { makeTempDir } from '../../tools/devtools/temp-dirs.js';
import { waitFor } from '../../tools/devtools/wait.js';

export interface NotifyMessage {
  /** When the test read it: performance.now() ms. */
  atMs: number;
  text: string;
  /** Its newline-separated KEY=VALUE assignments. */
  fields: Map<string, string>;
}

export class NotifyListener {
  readonly messages: NotifyMessage[] = [];
  private readonly socket: UnixDgramSocket;

  private constructor(readonly path: string) {
    this.socket = unixDgram.createSocket('unix_dgram', (buf) => {
      const text = buf.toString('utf8');
      this.messages.push({ atMs: performance.now(), text, fields: parseFields(text) });
    });
    let bindError: Error | null = null;
    this.socket.on('error', (err) => {
      bindError = err;
    });
    this.socket.bind(path); // emits synchronously
    if (bindError !== null) throw bindError;
  }

  /** A listener on a fresh path (sun_path holds 107 bytes: the temp dir keeps it short). */
  static open(at?: string): NotifyListener {
    return new NotifyListener(at ?? path.join(makeTempDir('notify'), 'notify.sock'));
  }

  /** Messages carrying `key`, e.g. 'STATUS', in arrival order. */
  withField(key: string): NotifyMessage[] {
    return this.messages.filter((m) => m.fields.has(key));
  }

  /** Arrival times (ms) of every WATCHDOG=1. */
  pings(): number[] {
    return this.messages.filter((m) => m.fields.get('WATCHDOG') === '1').map((m) => m.atMs);
  }

  /** The first message (from index `from`) accepted by `predicate`. */
  waitFor(what: string, predicate: (m: NotifyMessage) => boolean, timeoutMs: number, from = 0): Promise<NotifyMessage> {
    return waitFor(what, () => this.messages.slice(from).find(predicate), { timeoutMs, intervalMs: 20 });
  }

  close(): void {
    this.socket.close();
  }
}

function parseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return fields;
}
