import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { children, decodeOid, expectTag, readTlv, slice, type Tlv } from './der.js';
import {
  bitString, boolean, explicit, implicitPrimitive, integer, nullValue, octetString, oid, sequence, set, smallInteger, time, utf8String,
} from './der-writer.js';

/** RFC 5280 §4.2.1.3 named bits, in order. */
const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'] as const;
export type KeyUsageBit = (typeof KEY_USAGE_BITS)[number];

export interface CertificateSpec {
  /** SubjectPublicKeyInfo of the certified key (any type node:crypto reads). */
  spkiDer: Buffer;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** Subject attributes (commonName, organizationName); empty for an SVID leaf. */
  subject: Array<{ type: 'commonName' | 'organizationName'; value: string }>;
  /** The issuer's certificate (its Name is copied byte for byte) and key; absent: self-signed with `selfKey`. */
  issuer?: { certDer: Buffer; key: KeyObject };
  selfKey?: KeyObject;
  basicConstraints: { cA: boolean; critical: boolean };
  keyUsage: { bits: KeyUsageBit[]; critical: boolean };
  extKeyUsage?: { serverAuth: boolean; clientAuth: boolean };
  subjectAltName?: { uris: string[]; dns: string[]; critical: boolean };
}

const ATTRIBUTE_OIDS = { commonName: '2.5.4.3', organizationName: '2.5.4.10' } as const;

export interface KeyPair {
  privateKey: KeyObject;
  privateKeyPem: string;
  publicKeyPem: string;
  spkiDer: Buffer;
}

/** ECDSA P-256: small, fast to generate and to sign with (RSA-2048 keys take ~50 ms to make). */
export function newKeyPair(type: 'ec-p256' | 'rsa-2048' = 'ec-p256'): KeyPair {
  const { privateKey, publicKey } = type === 'ec-p256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    spkiDer: publicKey.export({ type: 'spki', format: 'der' }),
  };
}

/** Signature algorithm of a signing key (RFC 4055, RFC 5758, RFC 8410) and its node:crypto digest. */
function signatureAlgorithm(key: KeyObject): { id: Buffer; digest: string | null } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { id: sequence(oid('1.2.840.113549.1.1.11'), nullValue()), digest: 'sha256' };
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'secp384r1'
        ? { id: sequence(oid('1.2.840.10045.4.3.3')), digest: 'sha384' }
        : { id: sequence(oid('1.2.840.10045.4.3.2')), digest: 'sha256' };
    case 'ed25519':
      return { id: sequence(oid('1.3.101.112')), digest: null };
    default:
      throw new Error(`cannot sign with a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = readTlv(spkiDer, 0);
  const [, keyBits] = children(spkiDer, spki);
  const bits = expectTag(keyBits, 0x03, 'subjectPublicKey');
  return createHash('sha1').update(spkiDer.subarray(bits.start + 1, bits.end)).digest();
}

/** The subject Name and subjectKeyIdentifier of a DER certificate. */
function issuerFacts(certDer: Buffer): { subject: Buffer; skid: Buffer | undefined } {
  const certificate = readTlv(certDer, 0);
  const tbs = expectTag(children(certDer, certificate)[0], 0x30, 'tbsCertificate');
  const fields = children(certDer, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = expectTag(fields[offset + 4], 0x30, 'subject');
  let skid: Buffer | undefined;
  const extensions = fields.find((f) => f.tag === 0xa3);
  if (extensions !== undefined) {
    for (const extension of children(certDer, expectTag(children(certDer, extensions)[0], 0x30, 'extensions'))) {
      const parts: Tlv[] = children(certDer, extension);
      if (decodeOid(certDer, expectTag(parts[0], 0x06, 'extnID')) !== '2.5.29.14') continue;
      const value = expectTag(parts.at(-1), 0x04, 'extnValue');
      const inner = readTlv(certDer, value.start, value.end);
      skid = Buffer.from(certDer.subarray(inner.start, inner.end));
    }
  }
  return { subject: Buffer.from(slice(certDer, subject)), skid };
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** A named-bit BIT STRING in DER: trailing zero bits dropped (X.690 §11.2.2). */
function keyUsageValue(bits: KeyUsageBit[]): Buffer {
  let value = 0;
  for (const bit of bits) value |= 0x80 >> KEY_USAGE_BITS.indexOf(bit);
  if (value === 0) return bitString(Buffer.alloc(0));
  let unused = 0;
  while (((value >> unused) & 1) === 0) unused++;
  return bitString(Buffer.from([value]), unused);
}

function name(attributes: CertificateSpec['subject']): Buffer {
  return sequence(...attributes.map((a) => set(sequence(oid(ATTRIBUTE_OIDS[a.type]), utf8String(a.value)))));
}

/**
 * Builds and signs an X.509 v3 certificate (RFC 5280) for any subject key, signed natively
 * by node:crypto with the issuer's RSA, EC or Ed25519 key. Returns PEM.
 */
export function buildCertificate(spec: CertificateSpec): string {
  const signer = spec.issuer?.key ?? spec.selfKey;
  if (signer === undefined) throw new Error('a certificate needs an issuer or a self-signing key');
  const algorithm = signatureAlgorithm(signer);
  const subject = name(spec.subject);
  const issuerFactsValue = spec.issuer === undefined ? { subject, skid: undefined } : issuerFacts(spec.issuer.certDer);
  const skid = keyIdentifier(spec.spkiDer);
  const extensions: Buffer[] = [
    extension('2.5.29.19', spec.basicConstraints.critical, sequence(...(spec.basicConstraints.cA ? [boolean(true)] : []))),
    extension('2.5.29.15', spec.keyUsage.critical, keyUsageValue(spec.keyUsage.bits)),
  ];
  if (spec.extKeyUsage !== undefined) {
    const purposes = [...(spec.extKeyUsage.serverAuth ? [oid('1.3.6.1.5.5.7.3.1')] : []), ...(spec.extKeyUsage.clientAuth ? [oid('1.3.6.1.5.5.7.3.2')] : [])];
    extensions.push(extension('2.5.29.37', false, sequence(...purposes)));
  }
  if (spec.subjectAltName !== undefined) {
    const names = [
      ...spec.subjectAltName.uris.map((uri) => implicitPrimitive(6, Buffer.from(uri, 'latin1'))),
      ...spec.subjectAltName.dns.map((dns) => implicitPrimitive(2, Buffer.from(dns, 'latin1'))),
    ];
    extensions.push(extension('2.5.29.17', spec.subjectAltName.critical, sequence(...names)));
  }
  extensions.push(extension('2.5.29.14', false, octetString(skid)));
  const authorityKey = spec.issuer === undefined ? skid : issuerFactsValue.skid;
  if (authorityKey !== undefined) extensions.push(extension('2.5.29.35', false, sequence(implicitPrimitive(0, authorityKey))));
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    integer(Buffer.from(spec.serialHex, 'hex')),
    algorithm.id,
    issuerFactsValue.subject,
    sequence(time(spec.notBefore), time(spec.notAfter)),
    subject,
    spec.spkiDer,
    explicit(3, sequence(...extensions)),
  );
  const signature = sign(algorithm.digest, tbs, signer);
  const der = sequence(tbs, algorithm.id, bitString(signature));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** SubjectPublicKeyInfo DER of a PEM public key. */
export function spkiOf(publicKeyPem: string): Buffer {
  return createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
}

