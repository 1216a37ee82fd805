// Public surface of federation/peering/: tokens, the peer manager, and the wire protocol.
export { PeerManager, type PeerManagerOptions } from './peer-manager.js';
export { DEFAULT_FEDERATION_LIMITS, type FederationListenerLimits } from './federation-server.js';
export type { PeerStatus, PeerState } from './peer-status.js';
export type { PeerEvent } from './peer-events.js';
export type { PeerRecord, PeerRole } from './peer-store.js';
export {
  TOKEN_PREFIX, createPeeringToken, parsePeeringToken, formatToken,
  type PeeringToken, type PeeringTokenPayload, type CreatedToken, type CreateTokenOptions,
} from './token.js';
export { backoffDelay, type BackoffOptions } from './link-dialer.js';
export {
  BOOTSTRAP_PREFIX, deriveBootstrapSecret, formatBootstrapCredential, parseBootstrapCredential, parseBootstrapKey, type BootstrapCredential,
} from './bootstrap-credential.js';
export { requestProof, responseProof, type BootstrapRequestFields, type BootstrapResponseFields } from './bootstrap-proof.js';
export {
  BootstrapPeerings, type BootstrapPeeringSpec, type BootstrapPeeringState, type BootstrapPeeringStatus, type BootstrapPeeringsOptions,
} from './bootstrap-peerings.js';
export { ERROR_CODE_METADATA } from './grpc-errors.js';
export {
  FEDERATION_SERVICE, PROTOCOL_VERSION, PROTO_LOADER_OPTIONS, federationProto,
  type FederationClient, type WireBootstrapRedemption, type WireLinkMessage, type WireServiceRecord, type WireRedeemRequest, type WireRedeemResponse,
} from './proto.js';
