import { X509Certificate, createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import { checkLeafSvid, checkSigningCertificate } from './svid-rules.js';
import type { PeerIdentity, TrustBundle, TrustReader } from './types.js';
import { extensionsOfCertificate } from './x509-extensions.js';

const MAX_CHAIN = 8;

/**
 * Parsed roots per bundle object. The trust store holds frozen bundles and replaces the
 * object on every change, so identity is a safe key; parsing a certificate costs about as
 * much as verifying a signature, and this runs on every accepted connection.
 */
const rootsByBundle = new WeakMap<TrustBundle, X509Certificate[]>();

function parsedRoots(bundle: TrustBundle): X509Certificate[] {
  let roots = rootsByBundle.get(bundle);
  if (roots === undefined) {
    roots = bundle.rootsPem.map((pem) => new X509Certificate(pem));
    rootsByBundle.set(bundle, roots);
  }
  return roots;
}

function untrusted(reason: string, rule?: string): CausewayError {
  return new CausewayError(ErrorCodes.CHAIN_UNTRUSTED, `peer certificate is not trusted: ${reason}`, rule === undefined ? {} : { details: [rule] });
}

function within(cert: X509Certificate, now: Date, what: string): void {
  if (now < new Date(cert.validFrom)) throw untrusted(`${what} is not valid before ${new Date(cert.validFrom).toISOString()}`);
  if (now > new Date(cert.validTo)) throw untrusted(`${what} expired at ${new Date(cert.validTo).toISOString()}`);
}

/** How a signing certificate is named in messages: its role and subject, on one line. */
function label(role: 'root' | 'intermediate', cert: X509Certificate): string {
  return `${role} "${cert.subject.split('\n').join(', ')}"`;
}

/** Whether a signing certificate carries the URI SAN `spiffe://<trustDomain>` (it passed checkSigningCertificate). */
function namesTrustDomain(cert: X509Certificate, trustDomain: string): boolean {
  return extensionsOfCertificate(cert).subjectAltName.uris.includes(`spiffe://${trustDomain}`);
}

/**
 * Verifies an X.509-SVID chain against the bundle of the leaf's OWN trust domain (SPIFFE
 * X509-SVID §5; design brief: a certificate counts only against its trust domain's
 * bundle). chain[0] is the leaf; the walk ends at a cert signed by one of that domain's roots.
 * The leaf must pass every leaf rule and each signing certificate on the path (intermediates
 * and the root) every signing rule (svid-rules.ts): CW_SVID_INVALID naming the rule.
 */
export function verifyPeerChain(chain: readonly X509Certificate[], trust: TrustReader, now: Date = new Date()): PeerIdentity {
  const leaf = chain[0];
  if (leaf === undefined) throw untrusted('no certificate presented');
  const id = checkLeafSvid(leaf);
  within(leaf, now, 'leaf');
  const bundle = trust.get(id.trustDomain);
  if (bundle === undefined) throw untrusted(`no bundle for trust domain ${id.trustDomain}`);
  const roots = parsedRoots(bundle);
  // Trust-domain binding: an organisation root may be shared by several trust domains (design
  // brief: "every gateway an intermediate under one root"); it vouches for one of them only
  // through a signing certificate on the path that names it, else the intermediate of one
  // domain could mint identities of another.
  let bound = false;
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const root = roots.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root !== undefined) {
      checkSigningCertificate(root, id.trustDomain, label('root', root));
      within(root, now, 'root');
      bound ||= namesTrustDomain(root, id.trustDomain);
      if (!bound) {
        throw untrusted(
          `chain-not-bound-to-trust-domain: no signing certificate on the path names spiffe://${id.trustDomain}; `
          + 'a root shared by several trust domains vouches for a domain only through a signing certificate naming it',
          'chain-not-bound-to-trust-domain',
        );
      }
      return { spiffeId: id.uri, trustDomain: id.trustDomain, fingerprint: createHash('sha256').update(leaf.raw).digest('hex') };
    }
    const issuer = chain.slice(1).find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (issuer === undefined) throw untrusted(`chain does not lead to a root of ${id.trustDomain}`);
    checkSigningCertificate(issuer, id.trustDomain, label('intermediate', issuer));
    within(issuer, now, 'intermediate');
    bound ||= namesTrustDomain(issuer, id.trustDomain);
    current = issuer;
  }
  throw untrusted(`chain longer than ${MAX_CHAIN}`);
}

/** The peer's chain as presented on a TLS socket, leaf first (issuer links, stopping at self-signed). */
export function peerChainOf(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerCertificate(true) as ReturnType<TLSSocket['getPeerCertificate']> & { issuerCertificate?: unknown };
  const seen = new Set<string>();
  while (cert !== undefined && cert !== null && cert.raw !== undefined && chain.length < MAX_CHAIN) {
    const fingerprint = cert.fingerprint256;
    if (seen.has(fingerprint)) break;
    seen.add(fingerprint);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate as typeof cert;
  }
  return chain;
}
