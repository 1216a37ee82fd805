import path from 'node:path';
import { Catalog, FileStore, LocalRegistry, createLogger, type ServiceDeclaration } from '../../../../registry/index.js';
import { CertificateAuthority, SvidRotator, TrustStore, gatewaySpiffeId } from '../../../../federation/index.js';
import { PeerManager, type PeerManagerOptions } from '../../../../federation/peering/index.js';

/** Options a test may set on a side's PeerManager (FAST_LINK otherwise). */
export type SideOptions = Partial<Pick<PeerManagerOptions, 'heartbeatMs' | 'deadAfterMs' | 'listener' | 'backoff' | 'bootstrapKey'>>;

/** One simulated gateway: its own CA, trust store, catalog, store and peer manager. */
export interface Side {
  cluster: string;
  trustDomain: string;
  gatewayId: string;
  dir: string;
  ca: CertificateAuthority;
  svid: SvidRotator;
  trust: TrustStore;
  catalog: Catalog;
  store: FileStore;
  registry: LocalRegistry;
  peers: PeerManager;
  /** host:port of its federation listener. */
  federation: string;
  options: SideOptions;
}

export const FAST_LINK = { heartbeatMs: 200, deadAfterMs: 4000, backoff: { initialMs: 50, maxMs: 400 } };

export function locality(cluster: string): { cloud: string; region: string; zone: string; cluster: string } {
  return { cloud: 'test', region: `region-${cluster}`, zone: `zone-${cluster}`, cluster };
}

function newManager(side: Omit<Side, 'peers' | 'federation'>): PeerManager {
  let manager: PeerManager | undefined;
  manager = new PeerManager({
    cluster: side.cluster,
    trustDomain: side.trustDomain,
    gatewayId: side.gatewayId,
    locality: locality(side.cluster),
    eastWestAddress: '127.0.0.1:15443',
    federationAddress: () => `127.0.0.1:${manager?.address()?.port ?? 0}`,
    ca: side.ca,
    svid: side.svid,
    trust: side.trust,
    catalog: side.catalog,
    store: side.store,
    // CAUSEWAY_TEST_LOG=debug shows both sides' peering logs when a test needs explaining.
    logger: createLogger({ level: process.env.CAUSEWAY_TEST_LOG ?? 'silent', name: side.cluster }),
    ...FAST_LINK,
    ...side.options,
  });
  return manager;
}

export async function startSide(root: string, cluster: string, trustDomain: string, options: SideOptions = {}): Promise<Side> {
  const dir = path.join(root, cluster);
  const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(dir, 'ca'), trustDomain });
  const gatewayId = gatewaySpiffeId(trustDomain, `gw-${cluster}`);
  const svid = new SvidRotator({ ca, spiffeId: gatewayId, ttlSeconds: 3600 });
  const trust = new TrustStore();
  trust.set(ca.bundle());
  const catalog = new Catalog({ localCluster: cluster });
  const store = new FileStore(path.join(dir, 'state'));
  const registry = new LocalRegistry({ catalog, version: { epoch: Date.now(), seq: 0 } });
  const base = { cluster, trustDomain, gatewayId, dir, ca, svid, trust, catalog, store, registry, options };
  const peers = newManager(base);
  const address = await peers.start({ host: '127.0.0.1', port: 0 });
  return { ...base, peers, federation: `127.0.0.1:${address.port}` };
}

/** Starts a new peer manager on the same store and catalog, with a fresh trust store (after close); `port` 0 picks a new one. */
export async function restartPeers(side: Side, port = 0): Promise<void> {
  side.trust = new TrustStore();
  side.trust.set(side.ca.bundle());
  side.peers = newManager(side);
  const address = await side.peers.start({ host: '127.0.0.1', port });
  side.federation = `127.0.0.1:${address.port}`;
}

export async function stopSide(side: Side | undefined): Promise<void> {
  if (side === undefined) return;
  await side.peers.close();
  side.svid.close();
  await side.store.close();
}

export function declaration(name: string, cluster: string, trustDomain: string, exported: boolean, address = '10.0.0.1'): ServiceDeclaration {
  return {
    name,
    namespace: 'prod',
    exported,
    ports: [{ name: 'http', port: 8080, protocol: 'http' }],
    endpoints: [{
      address, ports: { http: 8080 }, locality: locality(cluster), kind: 'pod', identity: `spiffe://${trustDomain}/ns/prod/sa/${name}`,
      health: 'healthy', weight: 1, labels: {},
    }],
  };
}
