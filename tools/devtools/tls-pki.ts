// A throwaway public key infrastructure for TLS tests, made with the openssl command line: a CA, a
// server certificate for 127.0.0.1/localhost, a client certificate from the same CA, and a "rogue"
// client certificate from a CA of its own that a server trusting only the first must refuse.
// Keys are EC P-256 (fast to make), certificates valid two days, files under one temp dir.
import fs from 'node:fs';
import path from 'node:path';
import { runToCompletion } from './processes.js';
import { makeTempDir } from './temp-dirs.js';

export interface PkiIdentity {
  cert: string;
  key: string;
}

export interface TestPki {
  dir: string;
  caCert: string;
  server: PkiIdentity & { /** key then certificate, as ZooKeeper's PEM keyStore wants it */ pem: string };
  client: PkiIdentity;
  /** Signed by another CA: a server trusting only `caCert` must refuse it. */
  rogue: PkiIdentity;
}

export async function makeTestPki(): Promise<TestPki> {
  const dir = makeTempDir('pki');
  const file = (name: string): string => path.join(dir, name);
  await selfSignedCa('ca', 'gridkeeper test CA');
  await selfSignedCa('rogue-ca', 'someone else');
  const server = await issue('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost');
  // ZooKeeper also checks a client certificate against the client's address (hostname verification
  // is on by default), so the client certificates name 127.0.0.1 as well.
  const client = await issue('client', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=clientAuth');
  const rogue = await issue('rogue', 'rogue-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=clientAuth');
  const pem = file('server.pem');
  fs.writeFileSync(pem, fs.readFileSync(server.key, 'utf8') + fs.readFileSync(server.cert, 'utf8'), { mode: 0o600 });
  return { dir, caCert: file('ca.crt'), server: { ...server, pem }, client, rogue };

  async function selfSignedCa(name: string, cn: string): Promise<void> {
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-days', '2', '-subj', `/CN=${cn}`]);
  }

  async function issue(name: string, ca: string, extension: string): Promise<PkiIdentity> {
    const key = file(`${name}.key`);
    const cert = file(`${name}.crt`);
    fs.writeFileSync(file(`${name}.ext`), `${extension}\n`);
    await openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', file(`${name}.csr`), '-subj', `/CN=${name}`]);
    await openssl(['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`), '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', file(`${name}.ext`)]);
    return { cert, key };
  }
}

async function openssl(args: string[]): Promise<void> {
  const run = await runToCompletion('openssl', args, { label: `openssl ${args[0] ?? ''}` });
  if (run.code !== 0) throw new Error(`openssl ${args.join(' ')} failed (exit ${run.code}): ${run.stderr.trim()}`);
}
