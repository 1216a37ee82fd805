import type { Catalog } from '../../registry/index.js';

/**
 * The cluster of a gateway by its SPIFFE ID, for telemetry of every east-west request: an
 * index rebuilt when the catalog's gateways change, rather than a scan of all of them per
 * request.
 */
export class GatewayClusters {
  private index: ReadonlyMap<string, string> | undefined;
  readonly close: () => void;

  constructor(private readonly catalog: Catalog) {
    this.close = catalog.onGatewayChange(() => { this.index = undefined; });
  }

  readonly clusterOf = (identity: string): string | undefined => {
    this.index ??= new Map(this.catalog.gateways().map((g) => [g.identity, g.cluster]));
    return this.index.get(identity);
  };
}
