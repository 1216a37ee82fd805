// Certificates for the HAProxy and nginx pairs, made with the openssl CLI the way an operator
// would: one CA per side (A's CA signs A's client certificate, B's CA signs B's server
// certificate) so each side trusts only the other side's CA — the shape of two Causeway trust
// domains. ECDSA P-256, as Causeway's SVIDs, so the handshakes cost the same kind of work.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PairCerts {
  caA: string;
  caB: string;
  /** A's client certificate and key (PEM files), and both in one file as HAProxy's `crt` wants. */
  clientA: { cert: string; key: string; combined: string };
  serverB: { cert: string; key: string; combined: string };
  /** The DNS name in B's certificate, which A verifies. */
  serverNameB: string;
}

async function makeCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-subj', `/CN=${name}`, '-days', '2',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

async function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, usage: 'clientAuth' | 'serverAuth'): Promise<{ cert: string; key: string; combined: string }> {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  await writeFile(ext, [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', `extendedKeyUsage=${usage}`, `subjectAltName=DNS:${name}`,
  ].join('\n'));
  await run('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  const combined = path.join(dir, `${name}.pem`);
  await writeFile(combined, (await readFile(cert, 'utf8')) + (await readFile(key, 'utf8')), { mode: 0o600 });
  return { cert, key, combined };
}

export async function makePairCerts(dir: string): Promise<PairCerts> {
  const caA = await makeCa(dir, 'bench-ca-a');
  const caB = await makeCa(dir, 'bench-ca-b');
  const serverNameB = 'b.bench.test';
  return {
    caA: caA.cert, caB: caB.cert, serverNameB,
    clientA: await makeLeaf(dir, 'a.bench.test', caA, 'clientAuth'),
    serverB: await makeLeaf(dir, serverNameB, caB, 'serverAuth'),
  };
}
