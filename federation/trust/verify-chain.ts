import { X509Certificate, createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import { parseSpiffeId } from './spiffe-id.js';
import type { PeerIdentity, TrustReader } from './types.js';

const MAX_CHAIN = 8;

function svidInvalid(reason: string): CausewayError {
  return new CausewayError(ErrorCodes.SVID_INVALID, `peer certificate is not a valid X509-SVID: ${reason}`);
}

function untrusted(reason: string): CausewayError {
  return new CausewayError(ErrorCodes.CHAIN_UNTRUSTED, `peer certificate is not trusted: ${reason}`);
}

function uriSans(cert: X509Certificate): string[] {
  // subjectAltName is "DNS:a, URI:spiffe://…"; a comma inside a SPIFFE ID is not allowed.
  return (cert.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('URI:')).map((s) => s.slice(4));
}

function within(cert: X509Certificate, now: Date, what: string): void {
  if (now < new Date(cert.validFrom)) throw untrusted(`${what} is not valid before ${new Date(cert.validFrom).toISOString()}`);
  if (now > new Date(cert.validTo)) throw untrusted(`${what} expired at ${new Date(cert.validTo).toISOString()}`);
}

/**
 * Verifies an X.509-SVID chain against the bundle of the leaf's OWN trust domain (SPIFFE
 * X509-SVID §5; design brief: a certificate counts only against its trust domain's
 * bundle). chain[0] is the leaf; the walk ends at a cert signed by one of that domain's roots.
 */
export function verifyPeerChain(chain: readonly X509Certificate[], trust: TrustReader, now: Date = new Date()): PeerIdentity {
  const leaf = chain[0];
  if (leaf === undefined) throw untrusted('no certificate presented');
  const uris = uriSans(leaf);
  if (uris.length !== 1) throw svidInvalid(`leaf has ${uris.length} URI SANs, exactly 1 is required`);
  let id;
  try {
    id = parseSpiffeId(uris[0] ?? '');
  } catch (err) {
    throw svidInvalid((err as Error).message);
  }
  if (leaf.ca) throw svidInvalid('leaf is a CA certificate (basicConstraints cA=true)');
  within(leaf, now, 'leaf');
  const bundle = trust.get(id.trustDomain);
  if (bundle === undefined) throw untrusted(`no bundle for trust domain ${id.trustDomain}`);
  const roots = bundle.rootsPem.map((pem) => new X509Certificate(pem));
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const root = roots.find((r) => current.checkIssued(r) && current.verify(r.publicKey));
    if (root !== undefined) {
      within(root, now, 'root');
      return { spiffeId: id.uri, trustDomain: id.trustDomain, fingerprint: createHash('sha256').update(leaf.raw).digest('hex') };
    }
    const issuer = chain.slice(1).find((c) => c !== current && current.checkIssued(c) && current.verify(c.publicKey));
    if (issuer === undefined) throw untrusted(`chain does not lead to a root of ${id.trustDomain}`);
    if (!issuer.ca) throw untrusted('an intermediate is not a CA');
    within(issuer, now, 'intermediate');
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
