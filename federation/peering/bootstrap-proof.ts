import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from '../tokens/index.js';

/**
 * The two proofs of a bootstrap redemption (docs/protocol.md, "Bootstrap credentials").
 * Neither side can rely on TLS to know the other: the dialler has never seen the dialled
 * gateway's bundle, and the dialled one has never seen the dialler's. So each message carries
 * an HMAC, keyed by the credential's secret, over every field of it that the receiver acts
 * on — the secret itself never travels. A field outside the MAC would be a field a man in
 * the middle could change; so both lists below are "everything that matters".
 *
 * Canonical form: the JSON text of an array of strings. JSON escapes every separator a
 * value could contain, so two different field lists never encode to the same bytes.
 */

const REQUEST_LABEL = 'causeway-bootstrap-v1 request';
const RESPONSE_LABEL = 'causeway-bootstrap-v1 response';
export const NONCE_BYTES = 16;

/** What the dialler asserts: the credential's scope, a fresh nonce, and who it is. */
export interface BootstrapRequestFields {
  nonce: string;
  id: string;
  exp: number;
  from: string;
  to: string;
  /** The requester (the dialler): what the dialled gateway will record and trust. */
  cluster: string;
  trustDomain: string;
  gatewayId: string;
  bundleJson: string;
}

/** What the dialled gateway answers, bound to the request by its nonce and the credential's id. */
export interface BootstrapResponseFields {
  nonce: string;
  id: string;
  cluster: string;
  trustDomain: string;
  gatewayId: string;
  bundleJson: string;
}

export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('hex');
}

function mac(secretHex: string, fields: readonly string[]): string {
  return createHmac('sha256', Buffer.from(secretHex, 'hex')).update(JSON.stringify(fields), 'utf8').digest('hex');
}

export function requestProof(secretHex: string, f: BootstrapRequestFields): string {
  return mac(secretHex, [REQUEST_LABEL, f.nonce, f.id, String(f.exp), f.from, f.to, f.cluster, f.trustDomain, f.gatewayId, sha256Hex(f.bundleJson)]);
}

export function responseProof(secretHex: string, f: BootstrapResponseFields): string {
  return mac(secretHex, [RESPONSE_LABEL, f.nonce, f.id, f.cluster, f.trustDomain, f.gatewayId, sha256Hex(f.bundleJson)]);
}

/** Compares a received proof with the expected one in constant time (anything not 64 hex is simply wrong). */
export function proofMatches(received: string, expected: string): boolean {
  if (typeof received !== 'string' || !/^[0-9a-f]{64}$/.test(received)) return false;
  return timingSafeEqual(Buffer.from(received, 'hex'), Buffer.from(expected, 'hex'));
}
