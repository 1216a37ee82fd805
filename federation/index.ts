// Public surface of federation/: trust (CA, SVIDs, bundles, mTLS), tokens, peering (links,
// replication) and identity (workload SVID issuance).
export * from './trust/index.js';
export * from './tokens/index.js';
export * from './peering/index.js';
export * from './identity/index.js';
