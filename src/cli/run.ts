import type { CliIO } from './io.js';

export async function runCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr('gridkeeper run: not implemented yet');
  return 1;
}
