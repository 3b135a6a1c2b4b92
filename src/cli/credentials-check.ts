// What `validate` checks of the credentials file the config names, as `run` reads it
// (coordination/credentials.ts): the mode first (group or others may read it: refused, exit 78,
// naming the path and the mode, as ssh refuses such a key), then the format. `validate` may run as
// another user than the service; a file this user may not read is as it should be, and only its
// mode is checked then.
import { CredentialsError } from '../coordination/errors.js';
import { readCredentialsFile } from '../coordination/credentials.js';
import type { Finding } from '../config/point-checks.js';
import type { SiteConfig } from '../config/types.js';

export function credentialsFileFindings(config: SiteConfig): Finding[] {
  const file = config.zookeeper.auth?.credentialsFile;
  if (file === undefined) return [];
  try {
    readCredentialsFile(file);
    return [];
  } catch (err) {
    if (!(err instanceof CredentialsError)) throw err;
    if (err.code === 'CREDENTIALS_UNREADABLE' && errnoOf(err.cause) === 'EACCES') return [];
    return [{ path: ['zookeeper', 'auth', 'credentialsFile'], message: `${file}: ${err.detail}` }];
  }
}

function errnoOf(err: unknown): string | undefined {
  const code: unknown = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
