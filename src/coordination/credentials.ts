// Digest credentials for ZooKeeper, read from `zookeeper.auth.credentialsFile`: one line
// `user:password`, a file only its owner may read (like an ssh key), never from the config itself.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { CredentialsError } from './errors.js';

export interface DigestCredentials {
  user: string;
  password: string;
}

/**
 * Reads and checks the file. Throws CredentialsError: unreadable, readable by group/others (checked
 * first, from its mode alone, as ssh does for a key: so that someone who may not read the file
 * still learns that others may), malformed.
 */
export function readCredentialsFile(file: string): DigestCredentials {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new Error('not a regular file');
    const mode = stat.mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new CredentialsError(
        'CREDENTIALS_INSECURE',
        file,
        `mode ${mode.toString(8).padStart(4, '0')} lets group or others read it; run chmod 600 ${file}`,
      );
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CredentialsError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new CredentialsError('CREDENTIALS_UNREADABLE', file, `cannot read it: ${reason}`, { cause: err });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length !== 1) {
    throw new CredentialsError('CREDENTIALS_MALFORMED', file, `expected exactly one line user:password, found ${lines.length}`);
  }
  const line = (lines[0] ?? '').trim();
  const colon = line.indexOf(':');
  const user = colon > 0 ? line.slice(0, colon) : '';
  const password = colon > 0 ? line.slice(colon + 1) : '';
  if (user === '' || password === '') {
    throw new CredentialsError('CREDENTIALS_MALFORMED', file, 'expected one line user:password with both parts non-empty');
  }
  return { user, password };
}

/** The id ZooKeeper's digest scheme stores in ACLs: `user:base64(sha1("user:password"))`. */
export function digestAclId(creds: DigestCredentials): string {
  const hash = createHash('sha1').update(`${creds.user}:${creds.password}`, 'utf8').digest('base64');
  return `${creds.user}:${hash}`;
}
