import type { TLSSocket } from 'node:tls';

/** A parsed SPIFFE ID (SPIFFE-ID spec §2): `spiffe://<trust-domain><path>`. */
export interface SpiffeId {
  trustDomain: string;
  /** "" or "/seg/seg"; no trailing slash, no empty, "." or ".." segments. */
  path: string;
  /** The canonical string form. */
  uri: string;
}

/**
 * The X.509 roots of one trust domain, as carried in a SPIFFE trust bundle
 * (SPIFFE Trust Domain and Bundle spec §4: JWKS with `use: "x509-svid"` keys holding `x5c`).
 */
export interface TrustBundle {
  trustDomain: string;
  /** `spiffe_sequence`: increases with every change to the bundle's keys. */
  sequence: number;
  /** `spiffe_refresh_hint` in seconds. */
  refreshHintSeconds: number;
  /** PEM of each root (self-signed or organisation-root) certificate. */
  rootsPem: readonly string[];
}

/** Our own X.509-SVID and its key: what a listener or dialer presents. */
export interface Svid {
  spiffeId: string;
  /** Leaf first, then any intermediates (not the root). */
  certChainPem: string;
  keyPem: string;
  notBefore: Date;
  notAfter: Date;
}

/** The verified identity of the other end of an mTLS connection. */
export interface PeerIdentity {
  spiffeId: string;
  trustDomain: string;
  /** SHA-256 fingerprint of the peer's leaf certificate (hex, colon-free). */
  fingerprint: string;
}

/** Read side of the trust store: bundles held per trust domain, never merged. */
export interface TrustReader {
  get(trustDomain: string): TrustBundle | undefined;
  trustDomains(): string[];
  /** Every root of every held bundle (for the TLS layer's first pass; see verify.ts). */
  allRootsPem(): string[];
  /** Called after any bundle is added, replaced or removed. Returns unsubscribe. */
  onChange(listener: () => void): () => void;
}

/** Source of the current local SVID; listeners learn of rotations. */
export interface SvidSource {
  current(): Svid;
  onRotate(listener: (svid: Svid) => void): () => void;
}

/** Called for every accepted mTLS connection, after its peer identity is verified. */
export type SecureConnectionHandler = (socket: TLSSocket, peer: PeerIdentity | undefined) => void;
