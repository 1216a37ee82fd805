import { X509Certificate, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { pemBlocks } from './ca-files.js';
import type { AuthorityRecord } from './ca-state.js';
import { checkSigningCertificate } from './svid-rules.js';
import { extensionsOfCertificate } from './x509-extensions.js';

/** A signing authority in memory: its record plus the certificates and key it names. */
export interface SigningAuthority {
  record: AuthorityRecord;
  /** The certificate that signs SVIDs (a self-managed root, or the operator's intermediate). */
  signingCertPem: string;
  signingCert: X509Certificate;
  keyPem: string;
  key: KeyObject;
  /** Certificates between the signing certificate and a root, sent after the leaf (intermediate kind only). */
  upperChainPem: string[];
  /** The root(s) this authority contributes to the bundle. */
  rootsPem: string[];
}

export function fingerprintOf(cert: X509Certificate): string {
  return createHash('sha256').update(cert.raw).digest('hex');
}

function problem(what: string, reason: string): CausewayError {
  return new CausewayError(ErrorCodes.CA_INIT, `${what}: ${reason}`);
}


/**
 * Checks the material of a signing authority: the key matches the signing certificate, which
 * is a CA naming exactly `spiffe://<trust domain>` (X509-SVID §3.2: a signing certificate's
 * SPIFFE ID has no path; Causeway's chain binding needs the trust domain on it), is valid
 * now, and chains through `upperChain` to one of `roots` (each a self-signed CA).
 */
export function checkAuthorityMaterial(options: {
  what: string; trustDomain: string; signingCertPem: string; keyPem: string; upperChainPem: string[]; rootsPem: string[]; now: number;
}): { signingCert: X509Certificate; key: KeyObject } {
  const { what, trustDomain, now } = options;
  let signingCert: X509Certificate;
  let key: KeyObject;
  try {
    signingCert = new X509Certificate(options.signingCertPem);
  } catch (err) {
    throw problem(what, `the signing certificate is not a PEM certificate (${describeError(err)})`);
  }
  try {
    key = createPrivateKey(options.keyPem);
  } catch (err) {
    throw problem(what, `the key is not a PEM private key (${describeError(err)})`);
  }
  if (!signingCert.checkPrivateKey(key)) throw problem(what, 'the key does not match the signing certificate');
  // The X509-SVID signing rules peers will apply on every connection: fail here, at start.
  try {
    checkSigningCertificate(signingCert, trustDomain, 'the signing certificate');
  } catch (err) {
    throw problem(what, describeError(err));
  }
  const uris = extensionsOfCertificate(signingCert).subjectAltName.uris;
  if (uris.length !== 1 || uris[0] !== `spiffe://${trustDomain}`) {
    throw problem(what, `the signing certificate must carry exactly the URI SAN spiffe://${trustDomain}, it has ${uris.length === 0 ? 'none' : uris.join(', ')}`);
  }
  const validTo = new Date(signingCert.validTo).getTime();
  if (validTo <= now) throw problem(what, `the signing certificate expired at ${new Date(validTo).toISOString()}`);
  const roots = options.rootsPem.map((pem, i) => {
    try {
      const root = new X509Certificate(pem);
      if (!root.ca || !root.checkIssued(root) || !root.verify(root.publicKey)) throw new Error('not a self-signed CA certificate');
      checkSigningCertificate(root, trustDomain, 'root');
      return root;
    } catch (err) {
      throw problem(what, `root ${i + 1} is unusable: ${describeError(err)}`);
    }
  });
  if (roots.length === 0) throw problem(what, 'no root certificate');
  let current = signingCert;
  const upper = options.upperChainPem.map((pem) => new X509Certificate(pem));
  for (let depth = 0; depth <= upper.length; depth++) {
    if (roots.some((r) => current.checkIssued(r) && current.verify(r.publicKey))) return { signingCert, key };
    const next = upper[depth];
    if (next === undefined || !current.checkIssued(next) || !current.verify(next.publicKey) || !next.ca) break;
    current = next;
  }
  throw problem(what, 'the signing certificate does not chain to the given root(s)');
}

/** What an operator supplies: the intermediate that signs, any intermediates above it, its key, the organisation root(s). */
export interface OperatorIntermediate {
  signingCertPem: string;
  upperChainPem: string[];
  keyPem: string;
  rootsPem: string[];
}

/** Where an operator intermediate comes from (files, a Kubernetes Secret); read again on every rotation. */
export interface IntermediateSource {
  /** For messages: "files /etc/ca/tls.crt, …" or "Secret causeway/ca". */
  describe: string;
  read(): Promise<OperatorIntermediate>;
}

/** Splits PEM material into an OperatorIntermediate; `what` names the source in errors. */
export function operatorIntermediateOf(certsText: string, keyPem: string, rootsText: string, what: { certs: string; roots: string }): OperatorIntermediate {
  const [signingCertPem, ...upperChainPem] = pemBlocks(certsText, 'CERTIFICATE');
  const rootsPem = pemBlocks(rootsText, 'CERTIFICATE');
  if (signingCertPem === undefined) throw new CausewayError(ErrorCodes.CA_INIT, `${what.certs} holds no PEM certificate`);
  if (rootsPem.length === 0) throw new CausewayError(ErrorCodes.CA_INIT, `${what.roots} holds no PEM certificate`);
  return { signingCertPem, upperChainPem, keyPem, rootsPem };
}

/** An intermediate in three files (cert chain, key, roots), e.g. a Kubernetes Secret mounted as a volume. */
export function intermediateFromFiles(files: { certFile: string; keyFile: string; rootsFile: string }): IntermediateSource {
  const read = async (file: string, what: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new CausewayError(ErrorCodes.CA_INIT, `cannot read the intermediate's ${what} ${file}: ${describeError(err)}`);
    }
  };
  return {
    describe: files.certFile,
    read: async () => operatorIntermediateOf(
      await read(files.certFile, 'certificate'), await read(files.keyFile, 'key'), await read(files.rootsFile, 'roots file'),
      { certs: files.certFile, roots: files.rootsFile },
    ),
  };
}

/** Loads an authority's files from the CA directory and checks them (a retiring one as of just before its expiry). */
export async function loadAuthority(dir: string, trustDomain: string, record: AuthorityRecord, now: number): Promise<SigningAuthority> {
  const read = async (name: string): Promise<string> => {
    try {
      return await readFile(path.join(dir, name), 'utf8');
    } catch (err) {
      throw new CausewayError(ErrorCodes.CA_INIT, `cannot read ${path.join(dir, name)}: ${describeError(err)}`);
    }
  };
  const [signingCertPem, ...upperChainPem] = pemBlocks(await read(record.certFile), 'CERTIFICATE');
  if (signingCertPem === undefined) throw new CausewayError(ErrorCodes.CA_INIT, `${path.join(dir, record.certFile)} holds no certificate`);
  const keyPem = await read(record.keyFile);
  const rootsPem = record.kind === 'intermediate' ? pemBlocks(await read(record.rootsFile ?? ''), 'CERTIFICATE') : [signingCertPem];
  // A retiring authority may be past its own expiry only if its SVIDs are too; check it loosely.
  // Expiry is the CA's to handle (a retiring authority outlives its SVIDs; an expired active
  // one gets replaced at start): check everything else as of just before it expired.
  const checkAt = Math.min(now, new Date(new X509Certificate(signingCertPem).validTo).getTime() - 1);
  const { signingCert, key } = checkAuthorityMaterial({
    what: path.join(dir, record.certFile), trustDomain, signingCertPem, keyPem, upperChainPem, rootsPem, now: checkAt,
  });
  return { record, signingCertPem, signingCert, keyPem, key, upperChainPem, rootsPem };
}
