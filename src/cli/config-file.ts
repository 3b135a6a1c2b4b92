import { ConfigError, formatProblem } from '../config/errors.js';
import { loadConfig, type LoadOptions } from '../config/load.js';
import type { SiteConfig } from '../config/types.js';
import type { CliIO } from './io.js';

/**
 * The site config, or null after printing one `FILE:LINE: path: message` line per problem on
 * stderr (the caller exits 78). Anything but a ConfigError is a bug and propagates.
 */
export function loadConfigOrReport(file: string, io: CliIO, opts: LoadOptions = {}): SiteConfig | null {
  try {
    return loadConfig(file, opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.stderr(formatProblem(p));
    return null;
  }
}
