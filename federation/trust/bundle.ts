import { X509Certificate, createPublicKey } from 'node:crypto';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import type { TrustBundle } from './types.js';

function invalid(trustDomain: string, reason: string): CausewayError {
  return new CausewayError(ErrorCodes.BUNDLE_INVALID, `bundle for ${trustDomain}: ${reason}`);
}

function pemToDer(pem: string): Buffer {
  return new X509Certificate(pem).raw;
}

function derToPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/**
 * Encodes a bundle in the SPIFFE trust bundle format (SPIFFE Trust Domain and Bundle spec
 * §4): a JWK Set whose X.509 authorities are keys with `use: "x509-svid"` and exactly one
 * certificate in `x5c`, plus `spiffe_sequence` and `spiffe_refresh_hint`.
 */
export function encodeBundle(bundle: TrustBundle): string {
  const keys = bundle.rootsPem.map((pem) => {
    const der = pemToDer(pem);
    const jwk = createPublicKey(pem).export({ format: 'jwk' }) as Record<string, unknown>;
    return { use: 'x509-svid', ...jwk, x5c: [der.toString('base64')] };
  });
  return JSON.stringify({ keys, spiffe_sequence: bundle.sequence, spiffe_refresh_hint: bundle.refreshHintSeconds });
}

/** Decodes and validates a SPIFFE bundle document; every rejection names its reason. */
export function decodeBundle(trustDomain: string, json: string): TrustBundle {
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch (err) {
    throw invalid(trustDomain, `not JSON (${(err as Error).message})`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid(trustDomain, 'not a JSON object');
  const { keys, spiffe_sequence: sequence, spiffe_refresh_hint: hint } = document as Record<string, unknown>;
  if (keys === undefined) throw invalid(trustDomain, '"keys" is missing');
  if (!Array.isArray(keys)) throw invalid(trustDomain, '"keys" is not an array');
  if (sequence !== undefined && (typeof sequence !== 'number' || !Number.isSafeInteger(sequence) || sequence < 0)) {
    throw invalid(trustDomain, '"spiffe_sequence" must be a non-negative integer');
  }
  if (hint !== undefined && (typeof hint !== 'number' || !Number.isSafeInteger(hint) || hint < 0)) {
    throw invalid(trustDomain, '"spiffe_refresh_hint" must be a non-negative integer');
  }
  const rootsPem: string[] = [];
  keys.forEach((key: unknown, i) => {
    if (typeof key !== 'object' || key === null) throw invalid(trustDomain, `keys[${i}] is not an object`);
    const { use, x5c } = key as Record<string, unknown>;
    // jwt-svid keys are legal in a SPIFFE bundle; Causeway does not use JWT-SVIDs yet.
    if (use === 'jwt-svid') return;
    if (use !== 'x509-svid') throw invalid(trustDomain, `keys[${i}].use is ${JSON.stringify(use)}, expected "x509-svid"`);
    if (!Array.isArray(x5c)) throw invalid(trustDomain, `keys[${i}].x5c is missing`);
    if (x5c.length !== 1) throw invalid(trustDomain, `keys[${i}].x5c has ${x5c.length} certificates, exactly 1 is required`);
    const [encoded] = x5c;
    if (typeof encoded !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(encoded)) throw invalid(trustDomain, `keys[${i}].x5c[0] is not base64`);
    let pem: string;
    try {
      pem = derToPem(Buffer.from(encoded, 'base64'));
      new X509Certificate(pem);
    } catch {
      throw invalid(trustDomain, `keys[${i}].x5c[0] is not a DER certificate`);
    }
    rootsPem.push(pem);
  });
  if (rootsPem.length === 0) throw invalid(trustDomain, 'no x509-svid keys');
  return { trustDomain, sequence: typeof sequence === 'number' ? sequence : 0, refreshHintSeconds: typeof hint === 'number' ? hint : 300, rootsPem };
}

/** Same trust domain, sequence and roots (compared as DER). */
export function bundlesEqual(a: TrustBundle, b: TrustBundle): boolean {
  if (a.trustDomain !== b.trustDomain || a.sequence !== b.sequence || a.rootsPem.length !== b.rootsPem.length) return false;
  return a.rootsPem.every((pem, i) => pemToDer(pem).equals(pemToDer(b.rootsPem[i] ?? '')));
}

/** Parses a map of bundles keyed by trust domain, refusing duplicates (a JSON object cannot hold them, so we scan keys). */
export function decodeBundleMap(entries: ReadonlyArray<readonly [string, string]>): Map<string, TrustBundle> {
  const map = new Map<string, TrustBundle>();
  for (const [trustDomain, json] of entries) {
    if (map.has(trustDomain)) throw invalid(trustDomain, 'appears twice in the bundle map');
    map.set(trustDomain, decodeBundle(trustDomain, json));
  }
  return map;
}
