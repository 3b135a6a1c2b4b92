import type { CliIO } from './io.js';

export async function statusCommand(_args: string[], io: CliIO): Promise<number> {
  io.stderr('gridkeeper status: not implemented yet');
  return 1;
}
