import { CausewayError, ErrorCodes, NAME_PATTERN } from '../../registry/index.js';
import { deriveBootstrapSecret, type BootstrapCredential } from './bootstrap-credential.js';
import { proofMatches, requestProof } from './bootstrap-proof.js';
import type { WireBootstrapRedemption, WireRedeemRequest } from './proto.js';

/**
 * The dialled gateway's checks of a bootstrap redemption, in an order that tells a caller
 * without the secret nothing but that it lacks it: shape, that the credential names this
 * gateway, then the proof — and only after the proof its expiry and who presents it. Whether
 * the id was already used is the peer manager's (it holds the persisted list).
 */
export function checkBootstrapRedemption(r: WireRedeemRequest, key: string | undefined, ourCluster: string, now: number): BootstrapCredential {
  if (key === undefined) {
    throw new CausewayError(ErrorCodes.BOOTSTRAP_DISABLED, 'this gateway accepts no bootstrap credentials (its config sets no peering.bootstrapKeyFile)');
  }
  const b = bootstrapFields(r);
  if (b.to !== ourCluster) {
    // Not our name: minted for another gateway (or dialled at the wrong address).
    throw new CausewayError(ErrorCodes.TOKEN_WRONG_PEER, `the bootstrap credential is for gateway "${b.to}", not this one`);
  }
  const secret = deriveBootstrapSecret(key, b);
  const expected = requestProof(secret, {
    nonce: b.nonce, id: b.id, exp: b.exp, from: b.from, to: b.to,
    cluster: r.cluster, trustDomain: r.trustDomain, gatewayId: r.gatewayId, bundleJson: r.spiffeBundleJson,
  });
  if (!proofMatches(b.proof, expected)) {
    throw new CausewayError(ErrorCodes.TOKEN_TAMPERED,
      'the bootstrap proof does not match: the credential was altered, or it was minted with another key than this gateway\'s');
  }
  if (Math.floor(now / 1000) >= b.exp) {
    throw new CausewayError(ErrorCodes.TOKEN_EXPIRED, `the bootstrap credential expired at ${new Date(b.exp * 1000).toISOString()}`);
  }
  if (r.cluster !== b.from) {
    // The proof is right, so whoever holds the secret sent this; the credential still only
    // peers the cluster it was minted for (`from`), under that name.
    throw new CausewayError(ErrorCodes.TOKEN_WRONG_PEER,
      `the bootstrap credential was minted for cluster "${b.from}" to present, not for "${r.cluster}"`);
  }
  return { from: b.from, to: b.to, id: b.id, exp: b.exp, secret };
}

/** The bootstrap member, every field checked (CW_TOKEN_MALFORMED naming the first bad one). */
function bootstrapFields(r: WireRedeemRequest): Omit<WireBootstrapRedemption, 'exp'> & { exp: number } {
  const malformed = (problem: string): CausewayError => new CausewayError(ErrorCodes.TOKEN_MALFORMED, `bootstrap redemption: ${problem}`);
  const b = r.bootstrap;
  if (b === null || b === undefined) throw malformed('the bootstrap field is missing');
  if (r.tokenId !== '' || r.secret !== '' || r.payloadDigest !== '') throw malformed('carries a peering token too; send one or the other');
  for (const field of ['from', 'to'] as const) {
    if (typeof b[field] !== 'string' || !NAME_PATTERN.test(b[field])) throw malformed(`${field}: ${JSON.stringify(b[field])} is not a DNS-1123 label`);
  }
  if (typeof b.id !== 'string' || !/^[0-9a-f]{32}$/.test(b.id)) throw malformed('id: must be 32 lower-case hex digits');
  const exp = typeof b.exp === 'string' && /^[0-9]{1,16}$/.test(b.exp) ? Number(b.exp) : b.exp;
  if (typeof exp !== 'number' || !Number.isSafeInteger(exp) || exp <= 0) throw malformed('exp: must be Unix seconds');
  if (typeof b.nonce !== 'string' || !/^(?:[0-9a-f]{2}){16,64}$/.test(b.nonce)) throw malformed('nonce: must be 16 to 64 random bytes in lower-case hex');
  if (typeof b.proof !== 'string' || !/^[0-9a-f]{64}$/.test(b.proof)) throw malformed('proof: must be 64 lower-case hex digits');
  return { from: b.from, to: b.to, id: b.id, exp, nonce: b.nonce, proof: b.proof };
}
