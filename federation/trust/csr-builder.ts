import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { bitString, explicit, implicitPrimitive, oid, octetString, sequence, set, smallInteger, utf8String } from './der-writer.js';
import { signatureAlgorithm } from './certificate-builder.js';
import { parseSpiffeId } from './spiffe-id.js';

const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SUBJECT_ALT_NAME = '2.5.29.17';
const COMMON_NAME = '2.5.4.3';

/**
 * A PKCS#10 certificate signing request (RFC 2986) for `key`, asking for one URI SAN — the
 * SPIFFE ID (X509-SVID §2: exactly one URI SAN) — in a PKCS#9 extensionRequest attribute
 * (RFC 2985 §5.4.2). Signed natively by node:crypto; what an agent sends with its join token,
 * its private key never leaving the host. Returns PEM.
 */
export function buildCsr(key: KeyObject, spiffeId: string): string {
  const id = parseSpiffeId(spiffeId);
  const subject = sequence(set(sequence(oid(COMMON_NAME), utf8String(id.path.split('/').at(-1) || id.trustDomain))));
  // GeneralName uniformResourceIdentifier is [6] IMPLICIT IA5String (RFC 5280 §4.2.1.6).
  const san = sequence(implicitPrimitive(6, Buffer.from(id.uri, 'ascii')));
  const extensions = sequence(sequence(oid(SUBJECT_ALT_NAME), octetString(san)));
  const attributes = explicit(0, sequence(oid(EXTENSION_REQUEST), set(extensions)));
  const info = sequence(smallInteger(0), subject, createPublicKey(key).export({ type: 'spki', format: 'der' }), attributes);
  const algorithm = signatureAlgorithm(key);
  const signature = sign(algorithm.digest, info, key);
  const der = sequence(info, algorithm.id, bitString(signature));
  const base64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${base64}-----END CERTIFICATE REQUEST-----\n`;
}
