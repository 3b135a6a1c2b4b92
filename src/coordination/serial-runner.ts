/**
 * Runs an async task one at a time: a kick while it runs makes it run once more afterwards (never
 * twice in parallel, never a queue of runs). Used for reconcile loops that converge on the state
 * ZooKeeper has (ephemeral nodes, the site lock); a kick from inside the task asks for another pass.
 */
export class SerialRunner {
  private running = false;
  private again = false;

  constructor(
    private readonly task: () => Promise<void>,
    /** Checked before each further pass: true stops the loop. */
    private readonly stopped: () => boolean,
  ) {}

  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.task();
        } while (this.again && !this.stopped());
      } finally {
        this.running = false;
      }
    })();
  }
}
