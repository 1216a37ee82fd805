import { createHash, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
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
  /** Subject attributes, by name or dotted OID (UTF8String values); empty for an SVID leaf. */
  subject: Array<{ type: 'commonName' | 'organizationName'; value: string } | { oid: string; value: string }>;
  /** The issuer's certificate (its Name is copied byte for byte) and key; absent: self-signed with `selfKey`. */
  issuer?: { certDer: Buffer; key: KeyObject };
  selfKey?: KeyObject;
  /** pathLen (RFC 5280 §4.2.1.9) is written only for a CA. */
  basicConstraints: { cA: boolean; pathLen?: number; critical: boolean };
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

/** The builder is only fed checked input (a parsed CSR, the CA's own keys): a refusal is a caller bug. */
function misuse(reason: string): CausewayError {
  return new CausewayError(ErrorCodes.INTERNAL, `cannot build certificate: ${reason}`);
}

/**
 * Signature algorithm of a signing key and its node:crypto digest: sha256WithRSAEncryption
 * with NULL parameters (RFC 4055 §5), ecdsa-with-SHA256/384 without parameters (RFC 5758
 * §3.2), Ed25519 without parameters (RFC 8410 §3).
 */
export function signatureAlgorithm(key: KeyObject): { id: Buffer; digest: string | null } {
  if (key.type !== 'private') throw misuse('the signing key is not a private key');
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { id: sequence(oid('1.2.840.113549.1.1.11'), nullValue()), digest: 'sha256' };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return { id: sequence(oid('1.2.840.10045.4.3.2')), digest: 'sha256' };
      if (curve === 'secp384r1') return { id: sequence(oid('1.2.840.10045.4.3.3')), digest: 'sha384' };
      throw misuse(`cannot sign with an EC key on curve ${curve ?? 'unknown'} (P-256 or P-384)`);
    }
    case 'ed25519':
      return { id: sequence(oid('1.3.101.112')), digest: null };
    default:
      throw misuse(`cannot sign with a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

/** RFC 5280 §4.1.2.2: a positive serial of at most 20 octets. */
function serialBytes(serialHex: string): Buffer {
  if (!/^([0-9a-fA-F]{2})+$/.test(serialHex)) throw misuse(`serial ${JSON.stringify(serialHex)} is not hex bytes`);
  const bytes = Buffer.from(serialHex, 'hex');
  const start = bytes.findIndex((b) => b !== 0);
  if (start === -1) throw misuse('serial is zero');
  if (bytes.length - start > 20) throw misuse('serial is longer than 20 octets');
  return bytes.subarray(start);
}

/** SPKI DERs known good because node:crypto itself produced them from a KeyObject (see spkiOfKey). */
const exportedSpkis = new WeakSet<Buffer>();

/** The SubjectPublicKeyInfo of a key, marked so buildCertificate need not parse it again. */
export function spkiOfKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  exportedSpkis.add(der);
  return der;
}

function checkSpec(spec: CertificateSpec): void {
  if (!exportedSpkis.has(spec.spkiDer)) {
    try {
      createPublicKey({ key: spec.spkiDer, format: 'der', type: 'spki' });
    } catch (err) {
      throw misuse(`the subject public key cannot be read: ${describeError(err)}`);
    }
  }
  for (const [what, date] of [['notBefore', spec.notBefore], ['notAfter', spec.notAfter]] as const) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999) throw misuse(`${what} is not a valid date`);
  }
  if (spec.notAfter.getTime() <= spec.notBefore.getTime()) throw misuse('notAfter is not after notBefore');
  const pathLen = spec.basicConstraints.pathLen;
  if (pathLen !== undefined && (!spec.basicConstraints.cA || !Number.isInteger(pathLen) || pathLen < 0 || pathLen > 127)) {
    throw misuse('pathLen needs cA=true and an integer from 0 to 127');
  }
  if (spec.issuer !== undefined && spec.selfKey !== undefined) throw misuse('give an issuer or a self-signing key, not both');
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value. */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const spki = readTlv(spkiDer, 0);
  const [, keyBits] = children(spkiDer, spki);
  const bits = expectTag(keyBits, 0x03, 'subjectPublicKey');
  return createHash('sha1').update(spkiDer.subarray(bits.start + 1, bits.end)).digest();
}

/** The subject Name and subjectKeyIdentifier of a DER certificate. */
function issuerFacts(certDer: Buffer): { subject: Buffer; spki: Buffer; skid: Buffer | undefined } {
  const certificate = readTlv(certDer, 0);
  const tbs = expectTag(children(certDer, certificate)[0], 0x30, 'tbsCertificate');
  const fields = children(certDer, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = expectTag(fields[offset + 4], 0x30, 'subject');
  const spki = expectTag(fields[offset + 5], 0x30, 'subjectPublicKeyInfo');
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
  return { subject: Buffer.from(slice(certDer, subject)), spki: slice(certDer, spki), skid };
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
  return sequence(...attributes.map((a) => {
    const id = 'oid' in a ? a.oid : ATTRIBUTE_OIDS[a.type];
    if (!/^[0-2](\.(0|[1-9][0-9]{0,8}))+$/.test(id)) throw misuse(`subject attribute type ${JSON.stringify(id)} is not a dotted OID`);
    return set(sequence(oid(id), utf8String(a.value)));
  }));
}

/**
 * The issuer's Name and key identifier, once its key was checked against its certificate.
 * Cached per signing key: a CA signs thousands of SVIDs with one authority, and deriving the
 * public key from the private one costs about as much as the signature itself.
 */
const checkedIssuers = new WeakMap<KeyObject, { certDer: Buffer; facts: ReturnType<typeof issuerFacts> }>();

function checkedIssuer(certDer: Buffer, signer: KeyObject): ReturnType<typeof issuerFacts> {
  const cached = checkedIssuers.get(signer);
  if (cached !== undefined && cached.certDer.equals(certDer)) return cached.facts;
  let facts: ReturnType<typeof issuerFacts>;
  try {
    facts = issuerFacts(certDer);
  } catch (err) {
    throw misuse(`the issuer certificate cannot be read: ${describeError(err)}`);
  }
  // A key that is not the issuer certificate's would sign a certificate no chain accepts.
  if (!createPublicKey(signer).export({ type: 'spki', format: 'der' }).equals(facts.spki)) throw misuse('the issuer key does not belong to the issuer certificate');
  checkedIssuers.set(signer, { certDer: Buffer.from(certDer), facts });
  return facts;
}

/**
 * Builds and signs an X.509 v3 certificate (RFC 5280) for any subject key, signed natively
 * by node:crypto with the issuer's RSA, EC or Ed25519 key. Returns PEM.
 */
export function buildCertificate(spec: CertificateSpec): string {
  const signer = spec.issuer?.key ?? spec.selfKey;
  if (signer === undefined) throw misuse('a certificate needs an issuer or a self-signing key');
  checkSpec(spec);
  const algorithm = signatureAlgorithm(signer);
  const serial = serialBytes(spec.serialHex);
  const subject = name(spec.subject);
  let issuerFactsValue: { subject: Buffer; skid: Buffer | undefined };
  if (spec.issuer === undefined) {
    issuerFactsValue = { subject, skid: undefined };
  } else {
    issuerFactsValue = checkedIssuer(spec.issuer.certDer, signer);
  }
  const skid = keyIdentifier(spec.spkiDer);
  const { cA, pathLen } = spec.basicConstraints;
  const extensions: Buffer[] = [
    // cA is DEFAULT FALSE, so DER omits it for a leaf (X.690 §11.5).
    extension('2.5.29.19', spec.basicConstraints.critical, sequence(...(cA ? [boolean(true)] : []), ...(cA && pathLen !== undefined ? [smallInteger(pathLen)] : []))),
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
    integer(serial),
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
