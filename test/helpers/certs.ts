import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  bitString, boolean, integer, octetString, oid, sequence, set, time, tlv,
} from '../../federation/trust/der-writer.js';
import { children, readTlv, slice } from '../../federation/trust/der.js';
import { keyIdentifier, signatureAlgorithm } from '../../federation/trust/certificate-builder.js';

/**
 * Builds deliberately shaped (often malformed) X.509 certificates for negative tests, with
 * the product's DER writer and reader but none of its certificate rules, and node:crypto signatures so that any key type works (forge's
 * certificate code handles RSA only). Every knob an X509-SVID rule test needs is here.
 */

export interface BuiltCert {
  certPem: string;
  keyPem: string;
  x509: X509Certificate;
}

export type KeyType = 'rsa' | 'ec' | 'ec-p384' | 'ed25519';

export type KeyUsageBit = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement' | 'keyCertSign' | 'cRLSign';
const KEY_USAGE_ORDER: readonly KeyUsageBit[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign'];

export const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';

export interface CertSpec {
  uris?: string[];
  dnsNames?: string[];
  /** A CA (cA=true, keyCertSign + cRLSign) or a leaf (cA=false, digitalSignature); the knobs below override. */
  ca?: boolean;
  notBefore?: Date;
  notAfter?: Date;
  /** Sign with this issuer; self-signed when absent. */
  issuer?: BuiltCert;
  subjectCn?: string;
  /** A subject Name with no RDN at all (as our CA's leaf SVIDs have). */
  emptySubject?: boolean;
  /** Key of the certified subject (default 'rsa', as before; 'ec' (P-256) is much faster to make). */
  keyType?: KeyType;
  /** Default: present, critical, cA = `ca`. */
  basicConstraints?: 'absent' | { cA: boolean; critical?: boolean; pathLen?: number };
  /** Default: present, critical, bits by `ca` (and keyEncipherment for an RSA leaf). */
  keyUsage?: 'absent' | { bits: KeyUsageBit[]; critical?: boolean };
  /** Default absent. */
  extKeyUsage?: 'absent' | { oids: string[]; critical?: boolean };
  /** Criticality of the SAN extension (default: critical only when the subject is empty). */
  sanCritical?: boolean;
  /** Raw extra extensions appended as given (e.g. a second SAN to test duplicates). */
  extraExtensions?: Array<{ oid: string; critical?: boolean; value: Buffer }>;
}

// --- DER: the product's writer (federation/trust/der-writer.ts) --------------------------------

const seq = sequence;
const octets = octetString;
const bool = boolean;
const bits = bitString;
const int = integer;

/** An OID's DER (tag, length, value). */
export function oidDer(dotted: string): Buffer {
  return oid(dotted);
}

/** The DER of a subjectAltName value (GeneralNames) with URI [6] and dNSName [2] entries. */
export function sanValue(uris: readonly string[], dnsNames: readonly string[] = []): Buffer {
  return seq(...uris.map((u) => tlv(0x86, Buffer.from(u, 'latin1'))), ...dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'latin1'))));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return seq(oidDer(oid), ...(critical ? [bool(true)] : []), octets(value));
}

function keyUsageValue(set: readonly KeyUsageBit[]): Buffer {
  let value = 0;
  for (const bit of set) value |= 0x80 >> KEY_USAGE_ORDER.indexOf(bit);
  if (value === 0) return bits(Buffer.alloc(0));
  let unused = 0;
  while (((value >> unused) & 1) === 0) unused++;
  return bits(Buffer.from([value]), unused);
}

function newKey(type: KeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (type) {
    case 'rsa': return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ec': return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ec-p384': return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ed25519': return generateKeyPairSync('ed25519');
  }
}

/** The subject Name of a certificate, byte for byte, so a child's issuer matches exactly. */
function subjectNameOf(cert: X509Certificate): Buffer {
  const der = cert.raw;
  const tbs = children(der, readTlv(der, 0))[0];
  if (tbs === undefined) throw new Error('certificate has no tbsCertificate');
  const fields = children(der, tbs);
  const subject = fields[(fields[0]?.tag === 0xa0 ? 1 : 0) + 4];
  if (subject === undefined) throw new Error('issuer certificate has no subject');
  return Buffer.from(slice(der, subject));
}

const keyId = (publicKey: KeyObject): Buffer => keyIdentifier(publicKey.export({ type: 'spki', format: 'der' }));

export function buildCert(spec: CertSpec): BuiltCert {
  const keyType = spec.keyType ?? 'rsa';
  const { privateKey, publicKey } = newKey(keyType);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const signingKey = spec.issuer === undefined ? privateKey : createPrivateKey(spec.issuer.keyPem);
  const alg = signatureAlgorithm(signingKey);
  const ca = spec.ca === true;
  const subject = spec.emptySubject === true ? seq() : seq(set(seq(oidDer('2.5.4.3'), tlv(0x0c, Buffer.from(spec.subjectCn ?? 'test', 'utf8')))));
  const issuerName = spec.issuer === undefined ? subject : subjectNameOf(spec.issuer.x509);
  const extensions: Buffer[] = [];
  const bc = spec.basicConstraints ?? { cA: ca };
  if (bc !== 'absent') {
    const pathLen = bc.pathLen === undefined ? [] : [int(Buffer.from([bc.pathLen]))];
    extensions.push(extension('2.5.29.19', bc.critical ?? true, seq(...(bc.cA ? [bool(true)] : []), ...pathLen)));
  }
  const ku = spec.keyUsage ?? { bits: ca ? ['keyCertSign', 'cRLSign'] : keyType === 'rsa' ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'] };
  if (ku !== 'absent') extensions.push(extension('2.5.29.15', ku.critical ?? true, keyUsageValue(ku.bits)));
  const eku = spec.extKeyUsage ?? 'absent';
  if (eku !== 'absent') extensions.push(extension('2.5.29.37', eku.critical ?? false, seq(...eku.oids.map(oidDer))));
  const uris = spec.uris ?? [];
  const dnsNames = spec.dnsNames ?? [];
  if (uris.length + dnsNames.length > 0) {
    extensions.push(extension(OID_SUBJECT_ALT_NAME, spec.sanCritical ?? spec.emptySubject === true, sanValue(uris, dnsNames)));
  }
  extensions.push(extension('2.5.29.14', false, octets(keyId(publicKey))));
  extensions.push(extension('2.5.29.35', false, seq(tlv(0x80, keyId(spec.issuer?.x509.publicKey ?? publicKey)))));
  for (const extra of spec.extraExtensions ?? []) extensions.push(extension(extra.oid, extra.critical ?? false, extra.value));
  const tbs = seq(
    tlv(0xa0, int(Buffer.from([2]))),
    int(Buffer.concat([Buffer.from([1]), randomBytes(15)])),
    alg.id,
    issuerName,
    seq(time(spec.notBefore ?? new Date(Date.now() - 60_000)), time(spec.notAfter ?? new Date(Date.now() + 3_600_000))),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...extensions)),
  );
  const der = seq(tbs, alg.id, bits(sign(alg.digest, tbs, signingKey)));
  const certPem = `-----BEGIN CERTIFICATE-----\n${(der.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
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
