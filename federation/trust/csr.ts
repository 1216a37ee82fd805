import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import { DerError, children, decodeOid, expectTag, readTlv, slice, type Tlv } from './der.js';

/** A PKCS#10 request whose self-signature verified (RFC 2986). */
export interface ParsedCsr {
  publicKey: KeyObject;
  spkiDer: Buffer;
  keyType: 'rsa' | 'ec' | 'ed25519';
  /** URI and DNS SANs asked for in the PKCS#9 extensionRequest attribute, if any. */
  requestedUris: string[];
  requestedDns: string[];
}

const MAX_CSR_BYTES = 16 * 1024;
const EXTENSION_REQUEST = '1.2.840.113549.1.9.14';
const SUBJECT_ALT_NAME = '2.5.29.17';
/** Signature algorithms accepted, by OID → node:crypto digest (null: the key type decides, Ed25519). */
const SIGNATURE_ALGORITHMS: Record<string, { digest: string | null; key: ParsedCsr['keyType']; name: string }> = {
  '1.2.840.113549.1.1.11': { digest: 'sha256', key: 'rsa', name: 'sha256WithRSAEncryption' },
  '1.2.840.113549.1.1.12': { digest: 'sha384', key: 'rsa', name: 'sha384WithRSAEncryption' },
  '1.2.840.113549.1.1.13': { digest: 'sha512', key: 'rsa', name: 'sha512WithRSAEncryption' },
  '1.2.840.10045.4.3.2': { digest: 'sha256', key: 'ec', name: 'ecdsa-with-SHA256' },
  '1.2.840.10045.4.3.3': { digest: 'sha384', key: 'ec', name: 'ecdsa-with-SHA384' },
  '1.3.101.112': { digest: null, key: 'ed25519', name: 'Ed25519' },
};
const CURVES = new Set(['prime256v1', 'secp384r1', 'P-256', 'P-384']);

function invalid(reason: string): CausewayError {
  return new CausewayError(ErrorCodes.CSR_INVALID, `certificate signing request refused: ${reason}`);
}

function pemToDer(pem: string): Buffer {
  const match = /^-----BEGIN (NEW )?CERTIFICATE REQUEST-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END (NEW )?CERTIFICATE REQUEST-----\s*$/.exec(pem.trim() + '\n');
  if (match === null) {
    throw invalid(pem.includes('-----BEGIN') ? 'the PEM block is not a CERTIFICATE REQUEST' : 'not PEM (expected -----BEGIN CERTIFICATE REQUEST-----)');
  }
  return Buffer.from((match[2] ?? '').replace(/\s+/g, ''), 'base64');
}

/**
 * Parses a PEM PKCS#10 request and verifies its self-signature over the received bytes
 * of certificationRequestInfo. Keys: RSA 2048–4096, EC P-256/P-384, Ed25519. Every
 * refusal is CW_CSR_INVALID naming what is wrong.
 */
export function parseCsr(pem: string): ParsedCsr {
  if (typeof pem !== 'string') throw invalid('not PEM text');
  if (pem.length > MAX_CSR_BYTES) throw invalid(`longer than ${MAX_CSR_BYTES} bytes`);
  const der = pemToDer(pem);
  let info: Tlv;
  let spki: Tlv;
  let algorithm: string;
  let signature: Buffer;
  let attributes: Tlv | undefined;
  try {
    const outer = expectTag(readTlv(der, 0), 0x30, 'CertificationRequest');
    if (outer.end !== der.length) throw new DerError('trailing bytes after the request');
    const [infoTlv, algTlv, sigTlv, extra] = children(der, outer);
    if (extra !== undefined) throw new DerError('CertificationRequest has more than 3 fields');
    info = expectTag(infoTlv, 0x30, 'certificationRequestInfo');
    const algorithmId = children(der, expectTag(algTlv, 0x30, 'signatureAlgorithm'));
    algorithm = decodeOid(der, expectTag(algorithmId[0], 0x06, 'signatureAlgorithm.algorithm'));
    const bits = expectTag(sigTlv, 0x03, 'signature');
    if (der[bits.start] !== 0) throw new DerError('signature BIT STRING has unused bits');
    signature = der.subarray(bits.start + 1, bits.end);
    const [version, subject, spkiTlv, attrs] = children(der, info);
    const v = expectTag(version, 0x02, 'version');
    if (v.end - v.start !== 1 || der[v.start] !== 0) throw new DerError('version is not 0 (v1)');
    expectTag(subject, 0x30, 'subject');
    spki = expectTag(spkiTlv, 0x30, 'subjectPKInfo');
    attributes = attrs === undefined ? undefined : expectTag(attrs, 0xa0, 'attributes');
  } catch (err) {
    if (err instanceof DerError) throw invalid(`bad DER: ${err.message}`);
    throw err;
  }
  const spkiDer = slice(der, spki);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch {
    throw invalid('the public key cannot be read');
  }
  const keyType = checkKey(publicKey);
  const scheme = SIGNATURE_ALGORITHMS[algorithm];
  if (scheme === undefined) throw invalid(`signature algorithm ${algorithm} is not supported (use SHA-256/384 with RSA or ECDSA, or Ed25519)`);
  if (scheme.key !== keyType) throw invalid(`signature algorithm ${scheme.name} does not fit a ${keyType} key`);
  if (!verify(scheme.digest, slice(der, info), publicKey, signature)) throw invalid('the signature does not verify: the request was altered or not signed by its key');
  const { uris, dns } = attributes === undefined ? { uris: [], dns: [] } : requestedNames(der, attributes);
  return { publicKey, spkiDer, keyType, requestedUris: uris, requestedDns: dns };
}

function checkKey(key: KeyObject): ParsedCsr['keyType'] {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < 2048 || bits > 4096) throw invalid(`an RSA key of ${bits} bits is not accepted (2048 to 4096)`);
      return 'rsa';
    }
    case 'ec':
      if (!CURVES.has(details.namedCurve ?? '')) throw invalid(`EC curve ${details.namedCurve ?? 'unknown'} is not accepted (P-256 or P-384)`);
      return 'ec';
    case 'ed25519':
      return 'ed25519';
    default:
      throw invalid(`a ${key.asymmetricKeyType ?? 'unknown'} key is not accepted (RSA, EC P-256/P-384, Ed25519)`);
  }
}

/** URI and DNS names of a subjectAltName in the extensionRequest attribute (PKCS#9). */
function requestedNames(der: Buffer, attributes: Tlv): { uris: string[]; dns: string[] } {
  const uris: string[] = [];
  const dns: string[] = [];
  try {
    for (const attribute of children(der, attributes)) {
      const [type, values] = children(der, expectTag(attribute, 0x30, 'attribute'));
      if (decodeOid(der, expectTag(type, 0x06, 'attribute type')) !== EXTENSION_REQUEST) continue;
      for (const extensions of children(der, expectTag(values, 0x31, 'attribute values'))) {
        for (const extension of children(der, expectTag(extensions, 0x30, 'extensions'))) {
          const fields = children(der, expectTag(extension, 0x30, 'extension'));
          if (decodeOid(der, expectTag(fields[0], 0x06, 'extnID')) !== SUBJECT_ALT_NAME) continue;
          const value = expectTag(fields.at(-1), 0x04, 'extnValue');
          const names = readTlv(der, value.start, value.end);
          for (const name of children(der, expectTag(names, 0x30, 'GeneralNames'))) {
            const text = der.subarray(name.start, name.end).toString('latin1');
            if (name.tag === 0x86) uris.push(text);
            else if (name.tag === 0x82) dns.push(text);
          }
        }
      }
    }
  } catch (err) {
    if (err instanceof DerError) throw invalid(`bad extensionRequest: ${err.message}`);
    throw err;
  }
  return { uris, dns };
}
