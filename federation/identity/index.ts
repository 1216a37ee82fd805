// Public surface of federation/identity/: workload SVID issuance by CSR — join tokens,
// Kubernetes service account tokens, the issuer and its rate limit.
export { JOIN_TOKEN_PREFIX, createJoinToken, parseJoinToken, grantProblem, type JoinToken, type JoinTokenPayload } from './join-token.js';
export { RateLimitedError, RateLimiter, type RateLimit } from './rate-limiter.js';
export {
  WorkloadIssuer, type IssuanceCredential, type IssueRequest, type IssuedSvid, type WorkloadIssuerOptions,
} from './workload-issuer.js';
export * from './service-account-token.js';
