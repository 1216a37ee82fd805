import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface BuiltCert {
  certPem: string;
  keyPem: string;
  x509: X509Certificate;
}

export interface CertSpec {
  uris?: string[];
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** Sign with this issuer; self-signed when absent. */
  issuer?: BuiltCert;
  subjectCn?: string;
}

/**
 * Builds deliberately shaped (often malformed) certificates for negative tests: any
 * number of URI SANs, CA or not, any validity window, any issuer.
 */
export function buildCert(spec: CertSpec): BuiltCert {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = spec.notBefore ?? new Date(Date.now() - 60_000);
  cert.validity.notAfter = spec.notAfter ?? new Date(Date.now() + 3_600_000);
  const subject = [{ name: 'commonName', value: spec.subjectCn ?? 'test' }];
  cert.setSubject(subject);
  const issuer = spec.issuer === undefined ? undefined : forge.pki.certificateFromPem(spec.issuer.certPem);
  cert.setIssuer(issuer === undefined ? subject : issuer.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: spec.ca === true, critical: true },
    spec.ca === true ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true } : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  ];
  if ((spec.uris ?? []).length > 0) extensions.push({ name: 'subjectAltName', altNames: (spec.uris ?? []).map((value) => ({ type: 6, value })) });
  cert.setExtensions(extensions);
  const signer = spec.issuer === undefined ? keyPem : spec.issuer.keyPem;
  cert.sign(forge.pki.privateKeyFromPem(signer), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { certPem, keyPem, x509: new X509Certificate(certPem) };
}

/**
 * A deliberately untrustworthy client certificate: a self-signed leaf that claims a
 * SPIFFE ID (and so a trust domain a gateway does trust) without any CA behind it.
 */
export function selfSignedSvid(spiffeId: string): { certPem: string; keyPem: string } {
  const { certPem, keyPem } = buildCert({ uris: [spiffeId] });
  return { certPem, keyPem };
}
