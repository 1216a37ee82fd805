import { X509Certificate } from 'node:crypto';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import { parseSpiffeId } from './spiffe-id.js';
import type { Svid, TrustReader } from './types.js';

export interface MtlsClientOptions {
  svid: Svid;
  trust: TrustReader;
  expectTrustDomain: string;
  expectSpiffeId?: string;
  alpn: string[];
  servername?: string;
}

/**
 * TLS options to dial a peer: trust ONLY the expected trust domain's roots, present our
 * SVID, and check the server by its SPIFFE ID instead of a host name (we never use DNS
 * names, so hostname verification has nothing to check).
 */
export function mtlsClientOptions(options: MtlsClientOptions): ConnectionOptions {
  const bundle = options.trust.get(options.expectTrustDomain);
  if (bundle === undefined) throw new CausewayError(ErrorCodes.CHAIN_UNTRUSTED, `no bundle held for trust domain ${options.expectTrustDomain}`);
  return {
    minVersion: 'TLSv1.3',
    ca: [...bundle.rootsPem],
    cert: options.svid.certChainPem,
    key: options.svid.keyPem,
    ALPNProtocols: options.alpn,
    ...(options.servername === undefined ? {} : { servername: options.servername }),
    checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerSpiffeId(cert, options.expectTrustDomain, options.expectSpiffeId),
  };
}

export function checkServerSpiffeId(cert: PeerCertificate, trustDomain: string, spiffeId?: string): Error | undefined {
  if (cert.raw === undefined) return new Error('server presented no certificate');
  const sans = (new X509Certificate(cert.raw).subjectAltName ?? '').split(', ').filter((s) => s.startsWith('URI:'));
  if (sans.length !== 1) return new Error(`server certificate has ${sans.length} URI SANs, expected exactly 1`);
  let id;
  try {
    id = parseSpiffeId(sans[0]?.slice(4) ?? '');
  } catch (err) {
    return err as Error;
  }
  if (id.trustDomain !== trustDomain) return new Error(`server is in trust domain ${id.trustDomain}, expected ${trustDomain}`);
  if (spiffeId !== undefined && id.uri !== spiffeId) return new Error(`server is ${id.uri}, expected ${spiffeId}`);
  return undefined;
}
