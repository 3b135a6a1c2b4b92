import type { CliIO } from './io.js';

export async function simulateCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr('gridkeeper simulate: not implemented yet');
  return 1;
}
