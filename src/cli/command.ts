import type { CliIO } from './io.js';

export async function commandCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr('gridkeeper command: not implemented yet');
  return 1;
}
