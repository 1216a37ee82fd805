import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import forge from 'node-forge';
import { CausewayError, ErrorCodes, describeError, silentLogger, type Logger } from '../../registry/index.js';
import { parseSpiffeId } from './spiffe-id.js';
import type { Svid, TrustBundle } from './types.js';

export interface CertificateAuthorityOptions {
  dir: string;
  trustDomain: string;
  logger?: Logger;
  now?: () => number;
  rootTtlDays?: number;
}

export interface IssuedCertificate {
  certPem: string;
  certChainPem: string;
  notBefore: Date;
  notAfter: Date;
}

/** Clock skew tolerated between gateways: certificates are valid from a minute ago. */
const BACKDATE_MS = 60_000;
const REFRESH_HINT_SECONDS = 300;

async function writeAtomic(file: string, data: string, mode: number): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await open(tmp, 'w', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
}

function serialNumber(): string {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; a leading 0x01..0x7f byte keeps it positive.
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function newRsaKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * The CA of one trust domain: a self-managed root created on first start in `dir`
 * (`root.key` mode 0600, `root.crt`), which signs X.509-SVIDs directly. RSA because
 * node-forge issues only RSA certificates; keys are generated natively by node:crypto.
 */
export class CertificateAuthority {
  readonly trustDomain: string;
  private readonly rootPem: string;
  private readonly rootKey: forge.pki.rsa.PrivateKey;
  private readonly rootCert: forge.pki.Certificate;
  private readonly sequence: number;
  private readonly now: () => number;

  private constructor(trustDomain: string, rootPem: string, rootKeyPem: string, sequence: number, now: () => number) {
    this.trustDomain = trustDomain;
    this.rootPem = rootPem;
    this.rootKey = forge.pki.privateKeyFromPem(rootKeyPem) as forge.pki.rsa.PrivateKey;
    this.rootCert = forge.pki.certificateFromPem(rootPem);
    this.sequence = sequence;
    this.now = now;
  }

  static async loadOrCreate(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const { dir, trustDomain } = options;
    const logger = (options.logger ?? silentLogger()).child({ component: 'ca' });
    const now = options.now ?? Date.now;
    parseSpiffeId(`spiffe://${trustDomain}`);
    const keyFile = path.join(dir, 'root.key');
    const certFile = path.join(dir, 'root.crt');
    const bundleFile = path.join(dir, 'bundle.json');
    let keyPem: string | undefined;
    try {
      keyPem = await readFile(keyFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CausewayError(ErrorCodes.CA_INIT, `${keyFile}: cannot read CA key: ${describeError(err)}`);
    }
    if (keyPem === undefined) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const key = newRsaKey();
      const rootPem = createRoot(trustDomain, key, now(), options.rootTtlDays ?? 3650);
      await writeAtomic(keyFile, key.privateKeyPem, 0o600);
      await writeAtomic(certFile, rootPem, 0o644);
      await writeAtomic(bundleFile, JSON.stringify({ sequence: 1 }), 0o644);
      logger.info({ trustDomain, dir }, 'created trust domain root CA');
      return new CertificateAuthority(trustDomain, rootPem, key.privateKeyPem, 1, now);
    }
    let rootPem: string;
    let sequence = 1;
    try {
      rootPem = await readFile(certFile, 'utf8');
      const root = new X509Certificate(rootPem);
      if (!root.checkPrivateKey(createPrivateKeyChecked(keyPem, keyFile))) throw new Error(`${keyFile} does not match ${certFile}`);
      const san = root.subjectAltName ?? '';
      if (san !== `URI:spiffe://${trustDomain}`) {
        throw new Error(`${certFile} is the root of "${san.replace('URI:spiffe://', '')}", not of trust domain "${trustDomain}"`);
      }
      try {
        const stored = JSON.parse(await readFile(bundleFile, 'utf8')) as { sequence?: unknown };
        if (typeof stored.sequence === 'number' && Number.isInteger(stored.sequence) && stored.sequence > 0) sequence = stored.sequence;
      } catch {
        // No bundle metadata yet: sequence 1.
      }
    } catch (err) {
      throw new CausewayError(ErrorCodes.CA_INIT, `cannot load CA in ${dir}: ${describeError(err)}`, { cause: err });
    }
    return new CertificateAuthority(trustDomain, rootPem, keyPem, sequence, now);
  }

  bundle(): TrustBundle {
    return { trustDomain: this.trustDomain, sequence: this.sequence, refreshHintSeconds: REFRESH_HINT_SECONDS, rootsPem: [this.rootPem] };
  }

  get rootCertificatePem(): string {
    return this.rootPem;
  }

  /**
   * Signs an X.509-SVID for a public key (SPIFFE X509-SVID §4, §5): exactly one URI SAN,
   * not a CA, key usage digitalSignature (+ keyEncipherment for RSA TLS), no
   * keyCertSign/cRLSign, EKU serverAuth + clientAuth.
   */
  issueSvid(request: { spiffeId: string; publicKeyPem: string; ttlSeconds: number; dnsNames?: string[] }): IssuedCertificate {
    const id = parseSpiffeId(request.spiffeId);
    if (id.trustDomain !== this.trustDomain) {
      throw new CausewayError(ErrorCodes.SVID_INVALID, `${id.uri} is outside trust domain ${this.trustDomain}; this CA signs only its own domain`);
    }
    if (id.path === '') throw new CausewayError(ErrorCodes.SVID_INVALID, 'a workload SVID needs a path (X509-SVID §2)');
    if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds <= 0) {
      throw new CausewayError(ErrorCodes.SVID_INVALID, `ttlSeconds must be a positive integer, got ${request.ttlSeconds}`);
    }
    let publicKey: forge.pki.PublicKey;
    try {
      publicKey = forge.pki.publicKeyFromPem(createPublicKey(request.publicKeyPem).export({ type: 'spki', format: 'pem' }).toString());
    } catch (err) {
      throw new CausewayError(ErrorCodes.SVID_INVALID, `public key is not an RSA key in PEM: ${describeError(err)}`);
    }
    const now = this.now();
    const notBefore = new Date(now - BACKDATE_MS);
    const notAfter = new Date(Math.min(now + request.ttlSeconds * 1000, this.rootCert.validity.notAfter.getTime()));
    const cert = forge.pki.createCertificate();
    cert.publicKey = publicKey;
    cert.serialNumber = serialNumber();
    cert.validity.notBefore = notBefore;
    cert.validity.notAfter = notAfter;
    // X509-SVID §4.3: the subject may be empty; then the SAN extension must be critical.
    cert.setSubject([]);
    cert.setIssuer(this.rootCert.subject.attributes);
    const altNames: Array<{ type: number; value: string }> = [{ type: 6, value: id.uri }];
    for (const dns of request.dnsNames ?? []) altNames.push({ type: 2, value: dns });
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames, critical: true },
      { name: 'subjectKeyIdentifier' },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.rootCert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    cert.sign(this.rootKey, forge.md.sha256.create());
    const certPem = forge.pki.certificateToPem(cert);
    return { certPem, certChainPem: certPem, notBefore, notAfter };
  }

  /** A new key pair and its SVID; the key stays in memory. */
  issueKeyAndSvid(spiffeId: string, ttlSeconds: number): Svid {
    const key = newRsaKey();
    const issued = this.issueSvid({ spiffeId, publicKeyPem: key.publicKeyPem, ttlSeconds });
    return { spiffeId: parseSpiffeId(spiffeId).uri, certChainPem: issued.certChainPem, keyPem: key.privateKeyPem, notBefore: issued.notBefore, notAfter: issued.notAfter };
  }
}

function createPrivateKeyChecked(pem: string, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${file} is not a PEM private key: ${describeError(err)}`);
  }
}

/** A self-signed root: cA=true, keyCertSign + cRLSign, path-less SPIFFE ID (X509-SVID §4.1). */
function createRoot(trustDomain: string, key: { privateKeyPem: string; publicKeyPem: string }, now: number, ttlDays: number): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(key.publicKeyPem);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now - BACKDATE_MS);
  cert.validity.notAfter = new Date(now + ttlDays * 86400_000);
  const subject = [{ name: 'organizationName', value: 'Causeway' }, { name: 'commonName', value: trustDomain }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectAltName', altNames: [{ type: 6, value: `spiffe://${trustDomain}` }] },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(key.privateKeyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
