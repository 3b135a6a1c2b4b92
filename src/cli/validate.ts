import type { CliIO } from './io.js';

export async function validateCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr('gridkeeper validate: not implemented yet');
  return 1;
}
