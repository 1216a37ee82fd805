import type { X509Certificate } from 'node:crypto';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { parseSpiffeId } from './spiffe-id.js';
import type { SpiffeId } from './types.js';
import { OID_CLIENT_AUTH, OID_SERVER_AUTH, extensionsOfCertificate, type CertificateExtensions } from './x509-extensions.js';

/**
 * The X509-SVID rules (SPIFFE X509-SVID spec §2–§5, Appendix A; RFC 5280), each with a
 * stable name. A refusal carries the name as `details[0]` and in its message
 * "<which cert>: <rule>: <why>". The names go into docs: never rename or reuse one.
 */
export const SVID_RULES = [
  // Any certificate.
  'certificate-malformed',
  // Leaf SVIDs.
  'uri-san-missing',
  'uri-san-multiple',
  'spiffe-id-invalid',
  'spiffe-id-no-path',
  'san-not-critical-empty-subject',
  'leaf-is-ca',
  'key-usage-missing',
  'key-usage-not-critical',
  'leaf-no-digital-signature',
  'leaf-key-cert-sign',
  'leaf-crl-sign',
  'eku-no-server-auth',
  'eku-no-client-auth',
  // Signing (CA) certificates on the path: intermediates and the root.
  'signing-not-ca',
  'signing-key-usage-missing',
  'signing-key-usage-not-critical',
  'signing-no-key-cert-sign',
  'signing-subject-empty',
  'signing-uri-san-multiple',
  'signing-spiffe-id-invalid',
  'signing-spiffe-id-has-path',
  'signing-wrong-trust-domain',
] as const;

export type SvidRule = (typeof SVID_RULES)[number];

function broken(which: string, rule: SvidRule, why: string, cause?: unknown): CausewayError {
  return new CausewayError(ErrorCodes.SVID_INVALID, `${which}: ${rule}: ${why}`, { details: [rule], cause });
}

function extensionsOf(cert: X509Certificate, which: string): CertificateExtensions {
  try {
    return extensionsOfCertificate(cert);
  } catch (err) {
    throw broken(which, 'certificate-malformed', describeError(err), err);
  }
}

/**
 * Checks a leaf X509-SVID — the certificate that authenticates a caller or server — and
 * returns its SPIFFE ID. Trust (issuer, validity) is verify-chain's job, not this one's.
 */
export function checkLeafSvid(cert: X509Certificate): SpiffeId {
  const which = 'leaf';
  const ext = extensionsOf(cert, which);
  const uris = ext.subjectAltName.uris;
  if (uris.length === 0) {
    throw broken(which, 'uri-san-missing', 'the leaf has 0 URI SANs; an X509-SVID carries its SPIFFE ID as exactly one URI SAN (X509-SVID §2)');
  }
  if (uris.length > 1) {
    throw broken(which, 'uri-san-multiple', `the leaf has ${uris.length} URI SANs; an X509-SVID has exactly one and validators MUST reject more (X509-SVID §2, §5.2)`);
  }
  let id: SpiffeId;
  try {
    id = parseSpiffeId(uris[0] ?? '');
  } catch (err) {
    throw broken(which, 'spiffe-id-invalid', `the URI SAN is not a SPIFFE ID (X509-SVID §2, §5.2): ${describeError(err)}`, err);
  }
  if (id.path === '') {
    throw broken(which, 'spiffe-id-no-path', `${id.uri} has no path; a leaf SVID names a workload, so its SPIFFE ID MUST have a non-root path (X509-SVID §3.1, §5.2)`);
  }
  if (ext.subjectIsEmpty && !ext.subjectAltName.critical) {
    throw broken(which, 'san-not-critical-empty-subject', 'the subject is empty but the SAN extension is not critical; it MUST be (X509-SVID §3.1, RFC 5280 §4.2.1.6)');
  }
  if (ext.basicConstraints.cA) {
    throw broken(which, 'leaf-is-ca', 'leaf is a CA certificate (basicConstraints cA=true); a leaf SVID MUST set cA=false (X509-SVID §4.1, §5.2)');
  }
  const ku = ext.keyUsage;
  if (!ku.present) throw broken(which, 'key-usage-missing', 'no key usage extension; it MUST be set on every SVID (X509-SVID §4.3)');
  if (!ku.critical) throw broken(which, 'key-usage-not-critical', 'the key usage extension is not critical; it MUST be (X509-SVID §4.3)');
  if (!ku.bits.digitalSignature) throw broken(which, 'leaf-no-digital-signature', 'key usage lacks digitalSignature; a leaf SVID MUST set it (X509-SVID §4.3)');
  if (ku.bits.keyCertSign) throw broken(which, 'leaf-key-cert-sign', 'key usage sets keyCertSign; a leaf SVID MUST NOT (X509-SVID §4.3, §5.2)');
  if (ku.bits.cRLSign) throw broken(which, 'leaf-crl-sign', 'key usage sets cRLSign; a leaf SVID MUST NOT (X509-SVID §4.3, §5.2)');
  // EKU is optional on a leaf (SHOULD), but when present both TLS purposes MUST be there (§4.4).
  if (ext.extKeyUsage.present) {
    if (!ext.extKeyUsage.oids.includes(OID_SERVER_AUTH)) {
      throw broken(which, 'eku-no-server-auth', 'extended key usage lacks id-kp-serverAuth; when the extension is present it MUST be set (X509-SVID §4.4)');
    }
    if (!ext.extKeyUsage.oids.includes(OID_CLIENT_AUTH)) {
      throw broken(which, 'eku-no-client-auth', 'extended key usage lacks id-kp-clientAuth; when the extension is present it MUST be set (X509-SVID §4.4)');
    }
  }
  return id;
}

/**
 * Checks a signing certificate (an intermediate or the root ending the path) of a leaf in
 * `trustDomain`. `which` names it in the message (e.g. `intermediate "CN=…"`).
 */
export function checkSigningCertificate(cert: X509Certificate, trustDomain: string, which = 'signing certificate'): void {
  const ext = extensionsOf(cert, which);
  if (!ext.basicConstraints.cA) {
    throw broken(which, 'signing-not-ca', 'basicConstraints cA is not true; a signing certificate MUST set cA=true (X509-SVID §3.2, §4.1)');
  }
  const ku = ext.keyUsage;
  if (!ku.present) throw broken(which, 'signing-key-usage-missing', 'no key usage extension; it MUST be set, with keyCertSign, on a signing certificate (X509-SVID §3.2, §4.3)');
  if (!ku.critical) throw broken(which, 'signing-key-usage-not-critical', 'the key usage extension is not critical; it MUST be (X509-SVID §4.3)');
  if (!ku.bits.keyCertSign) throw broken(which, 'signing-no-key-cert-sign', 'key usage lacks keyCertSign; a signing certificate MUST set it (X509-SVID §3.2, §4.3)');
  if (ext.subjectIsEmpty) {
    throw broken(which, 'signing-subject-empty', 'the subject is empty; a CA certificate MUST have a non-empty subject, which its leaves name as issuer (RFC 5280 §4.1.2.6)');
  }
  // A signing certificate SHOULD be an SVID; if it carries an ID, the SVID rules apply to it (§2, §3.2).
  const uris = ext.subjectAltName.uris;
  if (uris.length === 0) return;
  if (uris.length > 1) {
    throw broken(which, 'signing-uri-san-multiple', `the signing certificate has ${uris.length} URI SANs; an X509-SVID has at most one SPIFFE ID (X509-SVID §2)`);
  }
  let id: SpiffeId;
  try {
    id = parseSpiffeId(uris[0] ?? '');
  } catch (err) {
    throw broken(which, 'signing-spiffe-id-invalid', `the URI SAN is not a SPIFFE ID (X509-SVID §2): ${describeError(err)}`, err);
  }
  if (id.path !== '') {
    throw broken(which, 'signing-spiffe-id-has-path', `${id.uri} has a path; a signing certificate's SPIFFE ID MUST NOT (X509-SVID §3.2)`);
  }
  if (id.trustDomain !== trustDomain) {
    throw broken(which, 'signing-wrong-trust-domain',
      `it names ${id.uri} but signs for spiffe://${trustDomain}; a signing certificate on this path must name the leaf's trust domain (X509-SVID §3.2)`);
  }
}
