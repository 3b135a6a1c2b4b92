// The waiting line of one bus: two FIFOs, writes ahead of reads, so a command never waits behind a
// long line of polls (at most behind the one request already on the wire).

export type Priority = 'write' | 'read';

export class RequestQueue<T> {
  private readonly writes: T[] = [];
  private readonly reads: T[] = [];

  push(item: T, priority: Priority): void {
    (priority === 'write' ? this.writes : this.reads).push(item);
  }

  shift(): T | undefined {
    return this.writes.shift() ?? this.reads.shift();
  }

  /** Removes and returns everything still waiting. */
  drain(): T[] {
    return [...this.writes.splice(0), ...this.reads.splice(0)];
  }

  get length(): number {
    return this.writes.length + this.reads.length;
  }
}
