import type { KeyObject } from 'node:crypto';
import { serialNumber } from './ca-files.js';
import { buildCertificate, spkiOfKey, type KeyPair } from './certificate-builder.js';

/** Clock skew tolerated between gateways: certificates are valid from a minute ago. */
export const BACKDATE_MS = 60_000;

/** A self-signed root: cA=true, keyCertSign + cRLSign (critical), path-less SPIFFE ID (X509-SVID §3.2, §4). */
export function createSelfSignedRoot(trustDomain: string, key: KeyPair, now: number, ttlDays: number, label: string): string {
  return buildCertificate({
    spkiDer: key.spkiDer,
    serialHex: serialNumber(),
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + ttlDays * 86400_000),
    subject: [{ type: 'organizationName', value: 'Causeway' }, { type: 'commonName', value: `${trustDomain} ${label}` }],
    selfKey: key.privateKey,
    basicConstraints: { cA: true, critical: true },
    keyUsage: { bits: ['keyCertSign', 'cRLSign'], critical: true },
    subjectAltName: { uris: [`spiffe://${trustDomain}`], dns: [], critical: false },
  });
}

export interface LeafRequest {
  spiffeId: string;
  publicKey: KeyObject;
  dnsNames: readonly string[];
  notBefore: Date;
  notAfter: Date;
  issuerCertDer: Buffer;
  issuerKey: KeyObject;
}

/**
 * Signs a leaf X.509-SVID (X509-SVID §4): empty subject with a critical URI SAN (RFC 5280
 * §4.2.1.6), cA=false, key usage digitalSignature (+ keyEncipherment for RSA keys) critical,
 * no keyCertSign/cRLSign, EKU serverAuth + clientAuth.
 */
export function signLeaf(request: LeafRequest): string {
  const rsa = request.publicKey.asymmetricKeyType === 'rsa';
  return buildCertificate({
    spkiDer: spkiOfKey(request.publicKey),
    serialHex: serialNumber(),
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    subject: [],
    issuer: { certDer: request.issuerCertDer, key: request.issuerKey },
    basicConstraints: { cA: false, critical: true },
    keyUsage: { bits: rsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'], critical: true },
    extKeyUsage: { serverAuth: true, clientAuth: true },
    subjectAltName: { uris: [request.spiffeId], dns: [...request.dnsNames], critical: true },
  });
}
