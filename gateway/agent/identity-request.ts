import { request } from 'node:https';
import type { PeerCertificate } from 'node:tls';
import { CausewayError, ErrorCodes, describeError, isErrorCode, type ErrorCode } from '../../registry/index.js';
import type { Svid } from '../../federation/index.js';
import { checkGatewayCertificate } from './check-gateway.js';
import { parseHostPort } from '../config/address.js';
import { refuseLookup } from '../dataplane/tcp-connect.js';

/** What the identity listener answers to POST /v1/svid (gateway/identity/identity-server.ts). */
export interface IssuedSvid {
  spiffeId: string;
  certChainPem: string;
  bundle: string;
  expiresAt: string;
  /** The host the join token was minted for (`token create --agent HOST`). */
  agent?: string;
}

export interface IdentityRequestOptions {
  /** host:port of the gateway's identity listener (an IP literal: nothing is looked up in DNS). */
  address: string;
  trustDomain: string;
  /** The roots the gateway's certificate must chain to: the token's bundle, later our own. */
  roots: readonly string[];
  /** The join token (first SVID) … */
  bearer?: string;
  /** … or the SVID in force (renewal). */
  clientSvid?: Svid;
  body: { csr: string; spiffeId: string };
  timeoutMs: number;
}

/**
 * POST /v1/svid on the gateway's identity listener (docs/protocol.md, "Identity"): TLS 1.3
 * trusting only the given roots, the server checked by SPIFFE ID — a gateway of our trust
 * domain — never by host name. A refusal comes back as the gateway's own error code.
 */
export function identityRequest(options: IdentityRequestOptions): Promise<IssuedSvid> {
  return exchange(options, 'POST', '/v1/svid', JSON.stringify(options.body), 201, isIssued);
}

/**
 * GET the trust domain's bundle from the identity listener's SPIFFE bundle endpoint, over TLS
 * pinned to the roots held now: how an agent learns a new root within the bundle refresh
 * hint, before it signs anything (the CA's publish window is at least that long).
 */
export function fetchBundle(options: Omit<IdentityRequestOptions, 'body' | 'bearer'>): Promise<string> {
  return exchange(options, 'GET', '/.well-known/spiffe-bundle', undefined, 200, (b): b is unknown => typeof b === 'object' && b !== null)
    .then((bundle) => JSON.stringify(bundle));
}

function exchange<T>(
  options: Omit<IdentityRequestOptions, 'body'>, method: string, path: string, payload: string | undefined, want: number,
  accept: (body: unknown) => body is T,
): Promise<T> {
  const address = parseHostPort(options.address);
  if (typeof address === 'string') return Promise.reject(new CausewayError(ErrorCodes.CONFIG_INVALID, `identity listener address: ${address}`));
  return new Promise((resolve, reject) => {
    const req = request({
      host: address.host, port: address.port, method, path, lookup: refuseLookup, agent: false,
      ca: [...options.roots], minVersion: 'TLSv1.3',
      ...(options.clientSvid === undefined ? {} : { cert: options.clientSvid.certChainPem, key: options.clientSvid.keyPem }),
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkGatewayCertificate(cert, options.trustDomain),
      headers: {
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        ...(options.bearer === undefined ? {} : { authorization: `Bearer ${options.bearer}` }),
      },
      timeout: options.timeoutMs,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > 1 << 20) req.destroy(new Error('answer larger than 1 MiB'));
      });
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          reject(new CausewayError(ErrorCodes.INTERNAL, `identity listener ${options.address} answered ${res.statusCode ?? 0} with a body that is not JSON`));
          return;
        }
        if (res.statusCode === want && accept(body)) resolve(body);
        else reject(refusalOf(res.statusCode ?? 0, body, options.address));
      });
      res.on('error', (err) => reject(unreachable(options.address, err)));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (err) => reject(unreachable(options.address, err)));
    req.end(payload);
  });
}

function isIssued(body: unknown): body is IssuedSvid {
  const b = body as Partial<IssuedSvid> | null;
  return typeof b === 'object' && b !== null && typeof b.certChainPem === 'string' && typeof b.bundle === 'string' && typeof b.spiffeId === 'string';
}

function refusalOf(status: number, body: unknown, address: string): CausewayError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code: ErrorCode = typeof error?.code === 'string' && isErrorCode(error.code) ? error.code : ErrorCodes.INTERNAL;
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  return new CausewayError(code, `the gateway at ${address} refused the SVID request: ${message}`);
}

function unreachable(address: string, err: Error): CausewayError {
  return new CausewayError(ErrorCodes.PEER_UNREACHABLE, `identity listener ${address}: ${describeError(err)}`, { cause: err });
}
