// Public surface of federation/: trust (CA, SVIDs, bundles, mTLS) and peering (tokens, links, replication).
export * from './trust/index.js';
export * from './peering/index.js';
