import type { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';

/**
 * Reads the four extensions the X509-SVID rules are about, for any key type. node:crypto's
 * X509Certificate exposes neither key usage nor criticality, and forge's certificate parser
 * accepts RSA keys only, so the extensions are read straight from the DER with forge.asn1.
 */

/** RFC 5280 §4.2.1.3 KeyUsage named bits, in bit order. */
export const KEY_USAGE_NAMES = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_NAMES)[number];

export const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';

interface Presence {
  present: boolean;
  critical: boolean;
}

export interface BasicConstraintsExtension extends Presence {
  /** DEFAULT FALSE (RFC 5280 §4.2.1.9): false when the extension or the field is absent. */
  cA: boolean;
  pathLen: number | undefined;
}

export interface KeyUsageExtension extends Presence {
  bits: Readonly<Record<KeyUsageName, boolean>>;
}

export interface ExtKeyUsageExtension extends Presence {
  /** KeyPurposeIds, dotted. */
  oids: readonly string[];
}

export interface SubjectAltNameExtension extends Presence {
  /** uniformResourceIdentifier [6] entries, in order. */
  uris: readonly string[];
  /** dNSName [2] entries, in order. */
  dnsNames: readonly string[];
}

export interface CertificateExtensions {
  basicConstraints: BasicConstraintsExtension;
  keyUsage: KeyUsageExtension;
  extKeyUsage: ExtKeyUsageExtension;
  subjectAltName: SubjectAltNameExtension;
  /** The tbsCertificate subject Name holds no RDN (RFC 5280 §4.1.2.6). */
  subjectIsEmpty: boolean;
}

type Node = forge.asn1.Asn1;
const { Class, Type } = forge.asn1;

class Unreadable extends Error {}

function parse(bytes: string, what: string): Node {
  try {
    // parseAllBytes: trailing bytes after an element are an error, not ignored.
    return forge.asn1.fromDer(bytes, { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean);
  } catch (err) {
    throw new Unreadable(`${what} is not DER (${describeError(err)})`);
  }
}

function childrenOf(node: Node | undefined, what: string): Node[] {
  if (node === undefined || !Array.isArray(node.value)) throw new Unreadable(`${what} is missing or not constructed`);
  return node.value;
}

function bytesOf(node: Node | undefined, what: string): string {
  if (node === undefined || typeof node.value !== 'string') throw new Unreadable(`${what} is missing or not primitive`);
  return node.value;
}

function expect(node: Node | undefined, type: forge.asn1.Type, what: string): Node {
  if (node === undefined || node.tagClass !== Class.UNIVERSAL || node.type !== type) throw new Unreadable(`${what} is missing or has the wrong type`);
  return node;
}

function isContext(node: Node | undefined, tag: number): boolean {
  return node !== undefined && node.tagClass === Class.CONTEXT_SPECIFIC && node.type === tag;
}

function readBoolean(node: Node, what: string): boolean {
  const value = bytesOf(expect(node, Type.BOOLEAN, what), what);
  if (value.length !== 1) throw new Unreadable(`${what} is not a one-byte BOOLEAN`);
  // X.690 §11.1: in DER, TRUE is 0xFF and nothing else.
  if (value !== '\x00' && value !== '\xff') throw new Unreadable(`${what} is not a DER BOOLEAN (0x00 or 0xFF)`);
  return value === '\xff';
}

function readOid(node: Node | undefined, what: string): string {
  const bytes = bytesOf(expect(node, Type.OID, what), what);
  // X.690 §8.19.2: no subidentifier starts with a 0x80 padding byte, and the last one ends.
  for (let i = 0; i < bytes.length; i++) {
    const fresh = i === 0 || (bytes.charCodeAt(i - 1) & 0x80) === 0;
    if (fresh && bytes.charCodeAt(i) === 0x80) throw new Unreadable(`${what} is not a DER OBJECT IDENTIFIER (padded subidentifier)`);
  }
  if (bytes.length === 0 || (bytes.charCodeAt(bytes.length - 1) & 0x80) !== 0) throw new Unreadable(`${what} is not a DER OBJECT IDENTIFIER`);
  return forge.asn1.derToOid(bytes);
}

function basicConstraints(value: Node, critical: boolean): BasicConstraintsExtension {
  const fields = childrenOf(expect(value, Type.SEQUENCE, 'basicConstraints'), 'basicConstraints');
  let at = 0;
  let cA = false;
  if (fields[at]?.type === Type.BOOLEAN) cA = readBoolean(fields[at++] as Node, 'basicConstraints cA');
  let pathLen: number | undefined;
  if (fields[at] !== undefined) {
    const raw = bytesOf(expect(fields[at++], Type.INTEGER, 'basicConstraints pathLenConstraint'), 'pathLenConstraint');
    if (raw.length === 0 || raw.length > 4 || raw.charCodeAt(0) & 0x80) throw new Unreadable('basicConstraints pathLenConstraint is not a small non-negative INTEGER');
    pathLen = [...raw].reduce((n, c) => n * 256 + c.charCodeAt(0), 0);
  }
  if (at !== fields.length) throw new Unreadable('basicConstraints has unexpected fields');
  return { present: true, critical, cA, pathLen };
}

function keyUsageBits(raw: string): Record<KeyUsageName, boolean> {
  const unused = raw.length === 0 ? -1 : raw.charCodeAt(0);
  if (unused < 0 || unused > 7 || (raw.length === 1 && unused !== 0)) throw new Unreadable('keyUsage BIT STRING is malformed');
  const bits = Object.fromEntries(KEY_USAGE_NAMES.map((name) => [name, false])) as Record<KeyUsageName, boolean>;
  KEY_USAGE_NAMES.forEach((name, i) => {
    const byte = raw.charCodeAt(1 + (i >> 3));
    bits[name] = !Number.isNaN(byte) && (byte & (0x80 >> (i & 7))) !== 0;
  });
  return bits;
}

function subjectAltName(value: Node, critical: boolean): SubjectAltNameExtension {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  for (const name of childrenOf(expect(value, Type.SEQUENCE, 'subjectAltName'), 'subjectAltName')) {
    // GeneralName (RFC 5280 §4.2.1.6): dNSName [2] and uniformResourceIdentifier [6] are IA5String, IMPLICIT.
    if (isContext(name, 6)) uris.push(bytesOf(name, 'subjectAltName URI'));
    else if (isContext(name, 2)) dnsNames.push(bytesOf(name, 'subjectAltName dNSName'));
  }
  return { present: true, critical, uris, dnsNames };
}

function absent(): CertificateExtensions {
  return {
    basicConstraints: { present: false, critical: false, cA: false, pathLen: undefined },
    keyUsage: { present: false, critical: false, bits: Object.fromEntries(KEY_USAGE_NAMES.map((n) => [n, false])) as Record<KeyUsageName, boolean> },
    extKeyUsage: { present: false, critical: false, oids: [] },
    subjectAltName: { present: false, critical: false, uris: [], dnsNames: [] },
    subjectIsEmpty: false,
  };
}

function walk(der: Buffer): CertificateExtensions {
  const certificate = childrenOf(expect(parse(der.toString('binary'), 'the certificate'), Type.SEQUENCE, 'Certificate'), 'Certificate');
  const tbs = childrenOf(expect(certificate[0], Type.SEQUENCE, 'tbsCertificate'), 'tbsCertificate');
  // tbsCertificate (RFC 5280 §4.1): [0] version OPTIONAL, serial, signature, issuer, validity, subject, spki, [1], [2], [3] extensions.
  const offset = isContext(tbs[0], 0) ? 1 : 0;
  const subject = expect(tbs[offset + 4], Type.SEQUENCE, 'subject');
  const out = absent();
  out.subjectIsEmpty = childrenOf(subject, 'subject').length === 0;
  const wrapper = tbs.slice(offset + 6).find((n) => isContext(n, 3));
  if (wrapper === undefined) return out;
  const seen = new Set<string>();
  for (const extension of childrenOf(expect(childrenOf(wrapper, 'extensions [3]')[0], Type.SEQUENCE, 'extensions'), 'extensions')) {
    // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    const parts = childrenOf(expect(extension, Type.SEQUENCE, 'an extension'), 'an extension');
    const id = readOid(parts[0], 'extnID');
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension;
    // two SANs could make us and the TLS library read different identities.
    if (seen.has(id)) throw new Unreadable(`extension ${id} appears more than once (RFC 5280 §4.2)`);
    seen.add(id);
    if (parts.length !== 2 && parts.length !== 3) throw new Unreadable(`extension ${id} has ${parts.length} fields`);
    const critical = parts.length === 3 ? readBoolean(parts[1] as Node, `critical flag of ${id}`) : false;
    const octets = bytesOf(expect(parts.at(-1), Type.OCTETSTRING, `extnValue of ${id}`), `extnValue of ${id}`);
    switch (id) {
      case OID_BASIC_CONSTRAINTS:
        out.basicConstraints = basicConstraints(parse(octets, 'basicConstraints'), critical);
        break;
      case OID_KEY_USAGE:
        out.keyUsage = { present: true, critical, bits: keyUsageBits(bytesOf(expect(parse(octets, 'keyUsage'), Type.BITSTRING, 'keyUsage'), 'keyUsage')) };
        break;
      case OID_EXT_KEY_USAGE: {
        const purposes = childrenOf(expect(parse(octets, 'extKeyUsage'), Type.SEQUENCE, 'extKeyUsage'), 'extKeyUsage');
        out.extKeyUsage = { present: true, critical, oids: purposes.map((p) => readOid(p, 'extKeyUsage KeyPurposeId')) };
        break;
      }
      case OID_SUBJECT_ALT_NAME:
        out.subjectAltName = subjectAltName(parse(octets, 'subjectAltName'), critical);
        break;
      default:
        break;
    }
  }
  return out;
}

/**
 * Reads basicConstraints, keyUsage, extKeyUsage and subjectAltName (presence, criticality,
 * value) and whether the subject is empty, from a DER certificate of any key type.
 * Anything unreadable is a CW_SVID_INVALID naming the element, never a raw exception.
 */
export function readExtensions(der: Buffer): CertificateExtensions {
  try {
    return walk(der);
  } catch (err) {
    const reason = err instanceof Unreadable ? err.message : `unexpected structure (${describeError(err)})`;
    throw new CausewayError(ErrorCodes.SVID_INVALID, `certificate cannot be read: ${reason}`, { cause: err });
  }
}

/**
 * readExtensions of a parsed certificate, remembered per object: the roots verify-chain
 * holds are parsed once per bundle, so their extensions are read once, not per connection.
 */
const byCertificate = new WeakMap<X509Certificate, CertificateExtensions>();

export function extensionsOfCertificate(cert: X509Certificate): CertificateExtensions {
  let extensions = byCertificate.get(cert);
  if (extensions === undefined) {
    extensions = readExtensions(cert.raw);
    byCertificate.set(cert, extensions);
  }
  return extensions;
}
