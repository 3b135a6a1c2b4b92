// Builds a PointConfig with the defaults the config loader fills in, for the codec and planner tests.
import type { PointConfig } from '../../src/config/types.js';

export function point(fields: Partial<PointConfig> & Pick<PointConfig, 'type'>): PointConfig {
  return {
    name: 'p',
    table: 'holding',
    address: 0,
    wordOrder: 'big',
    byteOrder: 'big',
    scale: 1,
    offset: 0,
    access: 'read',
    ...fields,
  };
}
