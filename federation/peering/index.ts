// Public surface of federation/peering/: tokens, the peer manager, and the wire protocol.
export { PeerManager, type PeerManagerOptions } from './peer-manager.js';
export type { PeerStatus, PeerState } from './peer-status.js';
export type { PeerRecord, PeerRole } from './peer-store.js';
export {
  TOKEN_PREFIX, createPeeringToken, parsePeeringToken, formatToken, secretHash, sha256Hex,
  type PeeringToken, type PeeringTokenPayload, type CreatedToken, type CreateTokenOptions,
} from './token.js';
export { TokenIssuer, type IssuedToken, type TokenIssuerOptions } from './token-issuer.js';
export { backoffDelay, type BackoffOptions } from './link-dialer.js';
export { ERROR_CODE_METADATA } from './grpc-errors.js';
export {
  FEDERATION_SERVICE, PROTOCOL_VERSION, PROTO_LOADER_OPTIONS, federationProto,
  type FederationClient, type WireLinkMessage, type WireServiceRecord, type WireRedeemRequest, type WireRedeemResponse,
} from './proto.js';
