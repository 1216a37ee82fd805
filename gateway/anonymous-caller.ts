import type { CatalogReader } from '../registry/index.js';

export interface AnonymousCallerContext {
  /** `outbound.identifyCallersBySourceAddress` of this gateway's config. */
  identifyBySourceAddress: boolean;
  /** The local catalog (its endpoints are what a source address is matched against). */
  catalog: CatalogReader;
  /** The caller's source address at the outbound listener. */
  address: string;
}

/**
 * Why a caller at the outbound listener was anonymous, and which config key would identify
 * it: appended to a CW_ACCESS_DENIED refusal of an anonymous caller, since the gateway that
 * refused only knows that no identity arrived, not why none was sent. Mirrors the order of
 * the design brief's "who is calling": client certificate, agent, source address.
 */
export function anonymousCallerHint({ identifyBySourceAddress, catalog, address }: AnonymousCallerContext): string {
  const normalised = address.startsWith('::ffff:') ? address.slice(7) : address;
  const base = 'the caller is anonymous: it presented no client certificate to the outbound listener';
  const fix = 'call with a client certificate (an SVID from `causeway token create`), or set outbound.identifyCallersBySourceAddress: true '
    + `and declare the caller in services[] with an endpoint whose address is ${normalised} and whose identity the called cluster's access[] allows`;
  if (!identifyBySourceAddress) return `${base}, and outbound.identifyCallersBySourceAddress is off; ${fix}`;
  const identities = new Set<string>();
  for (const record of catalog.recordsOf(catalog.localCluster)) {
    if (record.deleted) continue;
    for (const endpoint of record.endpoints) if (endpoint.address === normalised) identities.add(endpoint.identity);
  }
  const [only] = identities;
  if (identities.size === 1) return `the caller's address ${normalised} identifies it as ${only}`;
  if (identities.size > 1) {
    return `${base}, and its address ${normalised} belongs to local endpoints with different identities (${[...identities].sort().join(', ')}), `
      + 'so it identifies no one; give the caller an address of its own in services[].endpoints[], or a client certificate';
  }
  return `${base}, and no endpoint in this gateway's services[] has its address ${normalised}; ${fix}`;
}
