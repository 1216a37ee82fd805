// Public surface of federation/trust: SPIFFE IDs, the trust-domain CA, bundles, chain
// verification, the shared mTLS listener and dialer options, SVID rotation.
export * from './types.js';
export { parseSpiffeId, gatewaySpiffeId, isGatewayIdentity, isValidTrustDomain, matchSpiffePattern } from './spiffe-id.js';
export {
  CertificateAuthority, type CertificateAuthorityOptions, type IssuedCertificate, type IntermediateFiles, type CaStatus, type AuthorityStatus, type CaEvent,
} from './ca.js';
export { encodeBundle, decodeBundle, decodeBundleMap, bundlesEqual } from './bundle.js';
export { TrustStore } from './trust-store.js';
export { verifyPeerChain, peerChainOf } from './verify-chain.js';
export { SVID_RULES, checkLeafSvid, checkSigningCertificate, type SvidRule } from './svid-rules.js';
export {
  readExtensions, KEY_USAGE_NAMES, type KeyUsageName, type CertificateExtensions, type BasicConstraintsExtension, type KeyUsageExtension,
  type ExtKeyUsageExtension, type SubjectAltNameExtension,
} from './x509-extensions.js';
export { MtlsServer, type MtlsServerOptions, type ConnectionRecord } from './mtls-server.js';
export { VerifiedConnections, shutdownGrpcServer, type CallWithAuthContext } from './verified-connections.js';
export {
  DEFAULT_CONNECTION_LIMITS, guardHandshakes, sourceKey, type ConnectionLimits, type ConnectionRefusal, type GuardHooks, type HandshakeGuard,
} from './handshake-guard.js';
export { mtlsClientOptions, checkServerSpiffeId, type MtlsClientOptions } from './tls-client.js';
export { SvidRotator } from './svid-rotator.js';
export type { TrustEvent } from './trust-events.js';
export { parseCsr, type ParsedCsr } from './csr.js';
export { buildCsr } from './csr-builder.js';
export { newKeyPair, type KeyPair } from './certificate-builder.js';
export {
  intermediateFromFiles, operatorIntermediateOf, type IntermediateSource, type OperatorIntermediate,
} from './signing-authority.js';
