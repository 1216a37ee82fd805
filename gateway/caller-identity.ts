import type { CatalogReader } from '../registry/index.js';

/**
 * Who is calling, by source address (design brief, outbound identity option 3): the
 * caller's address matched against the LOCAL cluster's endpoints. Off by default — it is
 * only sound where the pod network is trusted. An address shared by endpoints with
 * different identities says nothing, so the caller stays anonymous.
 */
export function identityBySourceAddress(catalog: CatalogReader): (address: string) => string | undefined {
  return (address) => {
    const normalised = address.startsWith('::ffff:') ? address.slice(7) : address;
    let found: string | undefined;
    for (const record of catalog.recordsOf(catalog.localCluster)) {
      if (record.deleted) continue;
      for (const endpoint of record.endpoints) {
        if (endpoint.address !== normalised) continue;
        if (found !== undefined && found !== endpoint.identity) return undefined;
        found = endpoint.identity;
      }
    }
    return found;
  };
}
