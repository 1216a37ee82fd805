// Public surface of federation/tokens/: the one-time token format and its issuer, shared by
// peering tokens (federation/peering) and join tokens (federation/identity).
export {
  SECRET_BYTES, checkPayload, checkTokenMac, decodeTokenText, formatTokenText, newTokenId, newTokenSecret, secretHash, sha256Hex,
  type DecodedTokenText, type PayloadChecker,
} from './token-codec.js';
export { TokenIssuer, type IssuedToken, type MintedToken, type TokenIssuerOptions } from './token-issuer.js';
