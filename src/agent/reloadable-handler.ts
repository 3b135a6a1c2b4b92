import type { Command, CommandHandler } from '../coordination/index.js';
import type { WritePause } from './write-pause.js';

/**
 * The CommandHandler coordination holds for the life of the process, in front of the one made from
 * the current config (command-handler.ts): a reload puts a new one in with `use` while the
 * WritePause is held, so a command's apply runs wholly on the old devices or wholly on the new.
 * `check` is answered by the current handler; `apply` checks again on the handler it runs on (a
 * command for a device the reload removed then fails with the reason).
 */
export class ReloadableCommandHandler implements CommandHandler {
  constructor(
    private current: CommandHandler,
    private readonly writes: WritePause,
  ) {}

  use(handler: CommandHandler): void {
    this.current = handler;
  }

  check(cmd: Command): string | null {
    return this.current.check(cmd);
  }

  apply(cmd: Command, guard: () => boolean): Promise<{ readBack: unknown }> {
    // `this.current` is read once the pause lets the write go: after a swap, the new handler.
    return this.writes.run(() => this.current.apply(cmd, guard));
  }

  holds(cmd: Pick<Command, 'device' | 'point'>): boolean {
    return this.current.holds?.(cmd) ?? false;
  }
}
