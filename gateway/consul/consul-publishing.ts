import { readFile } from 'node:fs/promises';
import { CausewayError, ErrorCodes, describeError, type CatalogReader, type Logger, type Source, type Store } from '../../registry/index.js';
import { readConsulTls } from '../config/consul-tls.js';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { ConsulSourceConfig } from '../config/validate-sources.js';
import type { ForwardListeners } from '../dataplane/forward-listeners.js';
import type { PolicyEngine } from '../policy/policy-engine.js';
import { ConsulPublisher, routeHealth } from './consul-publisher.js';
import { ImportGuard } from './import-guard.js';

/** What the publishers need of the running gateway. */
export interface PublishingDeps {
  catalog: CatalogReader;
  engine: PolicyEngine;
  forwards: ForwardListeners;
  store: Store;
  /** This gateway's SPIFFE ID. */
  identity: string;
  /** Reasons to look again besides the catalog: gateway liveness, the policy set. */
  triggers: ReadonlyArray<(listener: () => void) => () => void>;
  logger: Logger;
}

/**
 * The gateway's side of `sources.consul[].publish`: each publishing entry's import is wrapped
 * in an ImportGuard when the sources are set up, and its ConsulPublisher starts once the
 * forward ports and the decisions exist; the publisher's problems show in the entry's source
 * status.
 */
export class ConsulPublishing {
  private readonly guarded: Array<{ settings: ConsulSourceConfig; guard: ImportGuard }> = [];
  private readonly publishers = new Map<string, ConsulPublisher>();

  constructor(private readonly config: GatewayConfig) {}

  /** The source to add for `settings`: its import as it is, or guarded when the entry publishes. */
  source(settings: ConsulSourceConfig, imported: Source): Source {
    const publish = settings.publish;
    if (publish === undefined) return imported;
    const guard = new ImportGuard(imported, { address: publish.address, ports: publish.ports });
    this.guarded.push({ settings, guard });
    return guard;
  }

  async start(deps: PublishingDeps): Promise<void> {
    for (const { settings, guard } of this.guarded) {
      const publish = settings.publish!;
      const token = await readToken(settings);
      const tls = settings.tls ? await readConsulTls(settings.name, settings.tlsFiles) : undefined;
      const publisher = new ConsulPublisher({
        name: settings.name,
        consul: {
          host: settings.address.host, port: settings.address.port, ...(tls === undefined ? {} : { tls }),
          ...(token === undefined ? {} : { token }), ...(settings.datacenter === undefined ? {} : { datacenter: settings.datacenter }),
        },
        publish, node: publish.node ?? `causeway-${this.config.gatewayName}`, gateway: deps.identity,
        catalog: deps.catalog, health: routeHealth(deps.engine), forwards: deps.forwards, store: deps.store, guard,
        triggers: deps.triggers, resyncMs: settings.waitMs, logger: deps.logger,
      });
      guard.reportPublishing(() => publisher.lastError());
      this.publishers.set(settings.name, publisher);
      await publisher.start();
    }
  }

  /** The publisher of each publishing entry, by entry name. */
  list(): ReadonlyMap<string, ConsulPublisher> {
    return this.publishers;
  }

  async close(): Promise<void> {
    await Promise.all([...this.publishers.values()].map((p) => p.close()));
  }
}

async function readToken(settings: ConsulSourceConfig): Promise<string | undefined> {
  if (settings.tokenFile === undefined) return undefined;
  try {
    return (await readFile(settings.tokenFile, 'utf8')).trim();
  } catch (err) {
    throw new CausewayError(ErrorCodes.CONFIG_READ, `sources.consul ${settings.name}: cannot read tokenFile ${settings.tokenFile}: ${describeError(err)}`, { cause: err });
  }
}
