// Types of the parts of `unix-dgram` (2.x, no types of its own) that gridkeeper and its tests use:
// lib/unix_dgram.js and src/unix_dgram.cc of the package. Its callbacks and events are synchronous.
declare module 'unix-dgram' {
  import type { EventEmitter } from 'node:events';

  /** What the binding's failures look like: `errno` and `code` are the same negative errno (-111). */
  export interface UnixDgramError extends Error {
    errno: number;
    code: number;
    syscall: string;
  }

  export interface UnixDgramSocket extends EventEmitter {
    /** Emits 'listening', or 'error' when bind(2) fails. The path is copied with strncpy: no abstract names. */
    bind(path: string): void;
    /** Unconnected: sendto(2) to `path`; the callback runs before send returns, with the error if any. */
    send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: UnixDgramError) => void): void;
    /** Throws on a failing close(2). */
    close(): void;
    on(event: 'message', listener: (msg: Buffer, rinfo: { size: number; path?: string }) => void): this;
    on(event: 'error', listener: (err: UnixDgramError) => void): this;
    on(event: 'listening', listener: () => void): this;
  }

  export function createSocket(type: 'unix_dgram', listener?: (msg: Buffer) => void): UnixDgramSocket;

  const unixDgram: { createSocket: typeof createSocket };
  export default unixDgram;
}
