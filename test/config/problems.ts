// What a config the tests expect to be refused was refused for.
import { ConfigError } from '../../src/config/errors.js';
import { parseConfig } from '../../src/config/load.js';

export type Problem = { line: number; path: string; message: string };

/** The ConfigError parsing `yaml` (as site.yaml on host test-host) throws; fails when the config is accepted. */
export function configErrorOf(yaml: string): ConfigError {
  try {
    parseConfig(yaml, 'site.yaml', { hostname: 'test-host' });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('config was accepted');
}

/** The problems parsing `yaml` finds, each as line, key path and message. */
export function problemsOf(yaml: string): Problem[] {
  return configErrorOf(yaml).problems.map(({ line, path, message }) => ({ line, path, message }));
}
