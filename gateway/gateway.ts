import { mkdir, readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { AddressInfo } from 'node:net';
import {
  AgentSource, CausewayError, Catalog, CatalogPersister, ConsulSource, ErrorCodes, EventBus, describeError, FileStore, LocalRegistry, SourceSet, StaticSource, createLogger, type Logger,
} from '../registry/index.js';
import type { TelemetryEvent } from './telemetry/events.js';
import { TrafficWindow } from './telemetry/traffic-window.js';
import { GatewayMetrics } from './telemetry/metrics.js';
import { registerGauges } from './telemetry/metric-gauges.js';
import { AccessLog } from './telemetry/access-log.js';
import { GatewayClusters } from './telemetry/gateway-clusters.js';
import { XdsServer } from './xds/xds-server.js';
import {
  BootstrapPeerings, CertificateAuthority, PeerManager, ServiceAccountTokenVerifier, SvidRotator, TrustStore, WorkloadIssuer, gatewaySpiffeId,
  intermediateFromFiles, type ServiceAccountVerifier,
} from '../federation/index.js';
import { secretIntermediate } from './kubernetes/secret-intermediate.js';
import { CaSecretRenewals, type IntermediateSourceStatus } from './kubernetes/ca-secret-renewals.js';
import { ApiServerJwks, type JwksStatus } from './kubernetes/api-jwks.js';
import { kubeClientConfig } from './kubernetes/kube-client-config.js';
import { formatHostPort, isUnspecified, type HostPort } from './config/address.js';
import { connectionLimits, federationLimits } from './config/listener-limits.js';
import type { DataPlaneConfig, GatewayConfig } from './config/gateway-config.js';
import type { ConsulSourceConfig } from './config/validate-sources.js';
import { readConsulTls } from './config/consul-tls.js';
import { readPeeringFiles } from './config/peering-files.js';
import type { WindowTuning } from './dataplane/h2-windows.js';
import { loadConfig } from './config/load-config.js';
import { EastWestServer } from './dataplane/eastwest-server.js';
import { OutboundProxy, type RequestRecord } from './dataplane/outbound-proxy.js';
import { ForwardListeners, addForwards } from './dataplane/forward-listeners.js';
import { kubernetesSource, loadKubeConfig } from './kubernetes/kubernetes-source-factory.js';
import { ServiceImportWriter } from './kubernetes/service-imports.js';
import { ConsulPublishing } from './consul/consul-publishing.js';
import { TunnelClient } from './dataplane/tunnel-client.js';
import { OutlierTracker, gatewayKey } from './dataplane/outlier-tracker.js';
import { GatewayLiveness } from './dataplane/gateway-liveness.js';
import { GatewayProber } from './dataplane/gateway-prober.js';
import { PolicyEngine } from './policy/policy-engine.js';
import { identityBySourceAddress, workloadCallerRefusal } from './caller-identity.js';
import { anonymousCallerHint } from './anonymous-caller.js';
import { AdminServer } from './admin/admin-server.js';
import { IdentityServer } from './identity/identity-server.js';
import { AgentChannel } from './agent-channel/agent-channel.js';
import { readJwks } from './identity/read-jwks.js';
import { ensureAdminToken } from './admin/admin-token.js';
import { RecentRequests } from './recent-requests.js';
import { removeRuntimeFile, writeRuntimeFile } from './runtime-file.js';
import { lockDataDir } from './data-dir-lock.js';
import { EndpointHealthChecker } from './health/endpoint-health-checker.js';
import { EMPTY_POLICY_SET, type PolicySource } from './policy/policy-set.js';
import { PolicyStore } from './policy/policy-store.js';

export interface GatewayListeners {
  eastWest: string;
  federation: string;
  outbound: string;
  admin: string;
  identity: string;
  /** Only with `xds:` in the config. */
  xds?: string;
}

export interface GatewayOptions {
  logger?: Logger;
  /** The file the config came from; `reload()` re-reads it (SIGHUP, POST /v1/reload). */
  configFile?: string;
  /** A fixed policy source in place of the policy store's set (tests); default the store. */
  policies?: PolicySource;
}

/** Fields a reload may change; anything else needs a restart. */
const RELOADABLE: ReadonlySet<keyof GatewayConfig> = new Set<keyof GatewayConfig>(['services', 'access', 'logLevel', 'peering']);

/** No GatewayOptions.policies: what is read is the policy store, once started. */
const NO_POLICIES: PolicySource = { current: () => EMPTY_POLICY_SET, onChange: () => () => undefined };

/**
 * One gateway: local registry, trust-domain CA, peer links, east-west and outbound
 * listeners, admin API. Start order follows the failure model: state is restored from the
 * data dir BEFORE any listener opens, so a restarted gateway serves its last known catalog
 * before any peer answers.
 */
export class Gateway {
  private configValue: GatewayConfig;
  readonly logger: Logger;
  private readonly configFile: string | undefined;
  private staticSource: StaticSource | undefined;
  readonly catalog: Catalog;
  readonly trust: TrustStore;
  readonly identity: string;
  readonly requests = new RecentRequests(100);
  /** The telemetry seam: components publish, metrics, the access log and the traffic window subscribe. */
  readonly telemetry: EventBus<TelemetryEvent>;
  /** Live traffic per edge (dashboard, `causeway top`). */
  readonly traffic: TrafficWindow;
  /** What GET /metrics exposes. */
  readonly metrics: GatewayMetrics;
  private readonly closers: Array<() => Promise<void> | void> = [];
  private listenersValue: GatewayListeners | undefined;
  private ready = false;
  private closing: Promise<void> | undefined;
  private policySource: PolicySource = NO_POLICIES;
  private policyStore: PolicyStore | undefined;
  private engineValue: PolicyEngine | undefined;
  private sourcesValue: SourceSet | undefined;
  private agentsValue: AgentSource | undefined;
  private forwardsValue: ForwardListeners | undefined;
  private publishingValue: ConsulPublishing | undefined;
  private caRenewals: CaSecretRenewals | undefined;
  private xdsValue: XdsServer | undefined;
  private apiJwks: ApiServerJwks | undefined;
  private bootstrapValue: BootstrapPeerings | undefined;
  private components!: {
    ca: CertificateAuthority;
    svid: SvidRotator;
    issuer: WorkloadIssuer;
    peers: PeerManager;
    eastWest: EastWestServer;
    outbound: OutboundProxy;
    admin: AdminServer;
    outliers: OutlierTracker;
    liveness: GatewayLiveness;
    healthChecks: EndpointHealthChecker;
    tunnels: TunnelClient;
  };

  private constructor(config: GatewayConfig, logger: Logger, configFile: string | undefined) {
    this.configValue = config;
    this.configFile = configFile;
    this.logger = logger;
    this.catalog = new Catalog({ localCluster: config.cluster, logger });
    this.trust = new TrustStore();
    this.identity = gatewaySpiffeId(config.trustDomain, config.gatewayName);
    this.telemetry = new EventBus<TelemetryEvent>((err) => logger.warn({ reason: describeError(err) }, 'a telemetry subscriber failed'));
    const gatewayClusters = new GatewayClusters(this.catalog);
    this.closers.push(gatewayClusters.close);
    this.traffic = new TrafficWindow({ localCluster: config.cluster, clusterOfGateway: gatewayClusters.clusterOf });
    this.telemetry.subscribe(this.traffic.observe);
    this.metrics = new GatewayMetrics({
      localCluster: config.cluster,
      clusterOfGateway: gatewayClusters.clusterOf,
      ...config.telemetry.metrics,
      processMetrics: takeProcessMetrics(),
    });
    this.telemetry.subscribe(this.metrics.observe);
    registerGauges(this.metrics.registry, this);
  }

  static async start(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
    const logger = options.logger ?? createLogger({ level: config.logLevel, name: `gateway/${config.cluster}` });
    const gateway = new Gateway(config, logger, options.configFile);
    if (options.policies !== undefined) gateway.policySource = options.policies;
    try {
      await gateway.startComponents();
    } catch (err) {
      await gateway.close();
      throw err;
    }
    return gateway;
  }

  get config(): GatewayConfig {
    return this.configValue;
  }

  /**
   * Re-reads the config file and applies what can change without a restart (services,
   * access rules, log level). A config that fails validation, or that changes a field
   * needing a restart, is refused whole and changes nothing.
   */
  async reload(): Promise<{ changed: string[] }> {
    if (this.configFile === undefined) throw new CausewayError(ErrorCodes.USAGE, 'this gateway was not started from a config file');
    const next = await loadConfig(this.configFile);
    const changed = (Object.keys(next) as Array<keyof GatewayConfig>).filter((k) => !isDeepStrictEqual(next[k], this.configValue[k]));
    const fixed = changed.filter((k) => !RELOADABLE.has(k));
    if (fixed.length > 0) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, `${this.configFile}: ${fixed.join(', ')} cannot change without a restart; nothing was reloaded`);
    }
    // Read whether or not `peering` changed: the files it names may have been rewritten in place.
    const peering = await readPeeringFiles(next.peering, next.cluster);
    for (const warning of peering.warnings) this.logger.warn(warning);
    this.configValue = next;
    this.peers.setBootstrapKey(peering.bootstrapKey);
    this.bootstrapValue?.update(peering.peers);
    if (changed.includes('services')) this.staticSource?.update(next.services);
    if (changed.includes('logLevel')) this.logger.level = next.logLevel;
    // The store's change listener re-checks open east-west streams (see startComponents).
    if (changed.includes('access')) await this.policyStore?.recompile();
    this.logger.info({ changed }, 'config reloaded');
    return { changed };
  }

  /** The registry sources (static config now; agents, Consul, Kubernetes) and their sync state. */
  get sources(): SourceSet {
    if (this.sourcesValue === undefined) throw new Error('gateway not started');
    return this.sourcesValue;
  }

  /** The VM and bare-metal agents' registrations and leases. */
  get agents(): AgentSource {
    if (this.agentsValue === undefined) throw new Error('gateway not started');
    return this.agentsValue;
  }

  /** The fixed local forward ports (outbound.forward, and those of services published into Consul). */
  get forwards(): ForwardListeners {
    if (this.forwardsValue === undefined) throw new Error('gateway not started');
    return this.forwardsValue;
  }

  /** The Consul datacenters this gateway publishes federated services into (sources.consul[].publish). */
  get consulPublishing(): ConsulPublishing {
    if (this.publishingValue === undefined) throw new Error('gateway not started');
    return this.publishingValue;
  }

  /** This gateway's decisions (access, failover, split) — what explain asks. */
  get engine(): PolicyEngine {
    if (this.engineValue === undefined) throw new Error('gateway not started');
    return this.engineValue;
  }

  get listeners(): GatewayListeners {
    if (this.listenersValue === undefined) throw new Error('gateway not started');
    return this.listenersValue;
  }

  isReady(): boolean {
    return this.ready;
  }

  get peers(): PeerManager {
    return this.components.peers;
  }

  get eastWest(): EastWestServer {
    return this.components.eastWest;
  }

  get outliers(): OutlierTracker {
    return this.components.outliers;
  }

  /** Remote gateways' liveness: dead (PING, dial), link-down (federation), up. */
  get liveness(): GatewayLiveness {
    return this.components.liveness;
  }

  /** The peerings `peering.peers` asks for, made in the background with bootstrap credentials. */
  get bootstrap(): BootstrapPeerings {
    if (this.bootstrapValue === undefined) throw new Error('gateway not started');
    return this.bootstrapValue;
  }

  /** The xDS server and its clients; undefined without `xds:` in the config. */
  get xds(): XdsServer | undefined {
    return this.xdsValue;
  }

  /** Sessions to remote gateways, shared by every caller. */
  get tunnels(): TunnelClient {
    return this.components.tunnels;
  }

  get healthChecks(): EndpointHealthChecker {
    return this.components.healthChecks;
  }

  /** The policy resources: the set in force, its directory, apply and delete (admin API). */
  get policies(): PolicyStore {
    if (this.policyStore === undefined) throw new Error('gateway not started');
    return this.policyStore;
  }

  get svid(): SvidRotator {
    return this.components.svid;
  }

  get ca(): CertificateAuthority {
    return this.components.ca;
  }

  get issuer(): WorkloadIssuer {
    return this.components.issuer;
  }

  /** Trust material read from the API server: the watched CA Secret, the service-account JWKS (absent when not configured). */
  trustSources(): { intermediate?: IntermediateSourceStatus; serviceAccountJwks?: JwksStatus } {
    return {
      ...(this.caRenewals === undefined ? {} : { intermediate: this.caRenewals.status() }),
      ...(this.apiJwks === undefined ? {} : { serviceAccountJwks: this.apiJwks.status() }),
    };
  }

  private async startComponents(): Promise<void> {
    const { config, logger } = this;
    // Before anything is written: a bad key or credential file stops the start, naming it.
    const peering = await readPeeringFiles(config.peering, config.cluster);
    for (const warning of peering.warnings) logger.warn(warning);
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    if (config.telemetry.accessLog !== undefined) {
      const accessLog = new AccessLog({ destination: config.telemetry.accessLog.path, sample: config.telemetry.accessLog.sample, localCluster: config.cluster });
      const unsubscribe = this.telemetry.subscribe(accessLog.observe);
      // Closed last: the final requests of a draining gateway are logged too.
      this.closers.push(async () => {
        unsubscribe();
        await accessLog.close();
      });
    }
    // Before anything reads or writes the data dir: one gateway per dir (CW_DATA_DIR_LOCKED).
    const lock = await lockDataDir(config.dataDir);
    this.closers.push(() => lock.release());
    const store = new FileStore(`${config.dataDir}/state`);
    this.closers.push(() => store.close());

    // The policy set is in force before anything decides or listens: the last good set saved
    // in the data dir stays in force even when the directory is broken (docs/policy.md).
    const policies = new PolicyStore({ directory: config.policy.directory, state: store, configAccess: () => this.configValue.access, logger, events: this.telemetry });
    await policies.start();
    this.closers.push(() => policies.close());
    this.policyStore = policies;
    if (this.policySource === NO_POLICIES) this.policySource = policies;

    const ca = await CertificateAuthority.loadOrCreate({
      dir: `${config.dataDir}/ca`, trustDomain: config.trustDomain, logger,
      publishWindowSeconds: config.trust.publishWindowSeconds,
      refreshHintSeconds: config.trust.bundleRefreshHintSeconds, events: this.telemetry,
      // A superseded root stays published until the longest-lived SVID it may have signed expires.
      maxSvidTtlSeconds: Math.max(config.gatewaySvidTtlSeconds, config.trust.maxWorkloadSvidTtlSeconds),
      ...(config.trust.intermediate === undefined ? {} : {
        intermediate: config.trust.intermediate.kind === 'files'
          ? intermediateFromFiles(config.trust.intermediate.files) : secretIntermediate(config.trust.intermediate.secret),
      }),
    });
    this.closers.push(() => ca.close());
    this.trust.set(ca.bundle());
    const svid = new SvidRotator({
      ca, spiffeId: this.identity, ttlSeconds: config.gatewaySvidTtlSeconds, logger, events: this.telemetry,
    });
    svid.start();
    this.closers.push(() => svid.close());
    // A rotation step: new roots reach the trust store (and so every listener and peer link);
    // a newly active authority re-issues our SVID for new connections.
    this.closers.push(ca.onChange((event) => {
      try {
        // Always the bundle first: nothing signed by a new authority may precede its root.
        this.trust.set(ca.bundle());
        if (event === 'activated') svid.rotateNow();
      } catch (err) {
        logger.error({ event, reason: describeError(err) }, 'cannot apply a CA change; the gateway keeps its current certificate');
      }
    }));
    // A renewed Secret (cert-manager) is adopted as `trust rotate` would adopt it, without one.
    if (config.trust.intermediate?.kind === 'secret') {
      const { secret } = config.trust.intermediate;
      const renewals = new CaSecretRenewals({ ca, ref: secret, kubeConfig: kubeClientConfig(secret.kubeconfig, 'trust.intermediate'), logger });
      renewals.start();
      this.closers.push(() => renewals.close());
      this.caRenewals = renewals;
    }

    // Restore before anything listens: the last known catalog serves traffic at once.
    const persister = new CatalogPersister({ store, catalog: this.catalog, logger });
    const restored = await persister.restore();
    const localRegistry = new LocalRegistry({
      catalog: this.catalog, version: restored ?? { epoch: Date.now(), seq: 0 }, logger,
    });
    persister.start(localRegistry);
    this.closers.push(() => persister.close());
    // Every registry source starts at once and syncs on its own time; restored services no
    // source declares any more are tombstoned only once all of them have synced (SourceSet).
    const sources = new SourceSet({ registry: localRegistry, logger, events: this.telemetry });
    const staticSource = new StaticSource('config', config.services);
    this.staticSource = staticSource;
    sources.add(staticSource);
    // VM and bare-metal agents (the agent channel on the identity listener feeds it).
    const agents = new AgentSource({ store, logger, leaseMs: config.agents.leaseMs });
    this.agentsValue = agents;
    sources.add(agents);
    // A datacenter this gateway also publishes into: its import never brings back what we publish (ConsulPublishing).
    const publishing = new ConsulPublishing(config);
    this.publishingValue = publishing;
    for (const consul of config.sources.consul) sources.add(publishing.source(consul, await consulSource(consul, config, logger)));
    // This cluster's own API server; never a remote one (design brief).
    if (config.sources.kubernetes !== undefined) {
      sources.add(await kubernetesSource(config.sources.kubernetes, { trustDomain: config.trustDomain, locality: { ...config.locality, cluster: config.cluster }, logger }));
    }
    sources.start();
    this.sourcesValue = sources;
    this.closers.push(() => sources.close());
    // Services imported from peers as MCS ServiceImports, for kubectl (opt-in); never awaited.
    if (config.sources.kubernetes?.serviceImports === true) {
      const imports = new ServiceImportWriter(loadKubeConfig(config.sources.kubernetes), this.catalog, logger);
      void imports.start();
      this.closers.push(() => imports.close());
    }
    // After the first sync, so the first round sees every local service; verdicts go to the
    // local registry and travel to peers with the records.
    const healthChecks = new EndpointHealthChecker({ catalog: this.catalog, registry: localRegistry, policies: this.policySource, logger });
    healthChecks.start();
    this.closers.push(() => healthChecks.close());

    // The peer manager is made after this listener: read per stream, once it exists.
    let peerManager: PeerManager | undefined;
    const eastWest = new EastWestServer({
      svid, trust: this.trust, catalog: this.catalog, localTrustDomain: config.trustDomain,
      exportsTo: (record, trustDomain) => peerManager?.exportsTo(record, trustDomain) ?? record.exportTo === undefined,
      policies: this.policySource, logger, handshakeTimeoutMs: config.limits.handshakeTimeoutMs, events: this.telemetry,
      connectionLimits: connectionLimits(config.limits),
      maxConcurrentStreams: config.limits.eastWest.maxConcurrentStreams, maxHeaderListSize: config.limits.maxHeaderListSize,
      ...dataPlaneTimeouts(config.dataPlane),
      streamIdleTimeoutMs: config.dataPlane.streamIdleTimeoutMs,
      windows: dataPlaneWindows(config.dataPlane), pool: config.dataPlane.pool,
    });
    const eastWestAddress = await bind('eastWest', config.listen.eastWest, (h, p) => eastWest.listen(h, p));
    this.closers.push(() => eastWest.close());
    // Open east-west streams were authorized under the set before: those no longer allowed are reset.
    this.closers.push(this.policySource.onChange(() => eastWest.recheckAccess()));

    const locality = { ...config.locality, cluster: config.cluster };
    const eastWestAdvertised = advertised(config.advertise.eastWest, config.listen.eastWest, eastWestAddress);
    const federationListen = config.listen.federation;
    const peers: PeerManager = new PeerManager({
      cluster: config.cluster, trustDomain: config.trustDomain, gatewayId: this.identity, locality,
      eastWestAddress: formatHostPort(eastWestAdvertised),
      // The advertised federation address is only final once bound; PeerManager reads it lazily.
      federationAddress: (): string => formatHostPort(advertised(config.advertise.federation, federationListen, peers.address())),
      ca, svid, trust: this.trust, catalog: this.catalog, store, logger,
      heartbeatMs: config.limits.federation.heartbeatIntervalMs, deadAfterMs: config.limits.federation.deadAfterMs,
      listener: federationLimits(config.limits), events: this.telemetry,
      ...(peering.bootstrapKey === undefined ? {} : { bootstrapKey: peering.bootstrapKey }),
    });
    peerManager = peers;
    // Subscribed before the links start, so that a link failing at once is seen.
    const liveness = new GatewayLiveness({ logger });
    this.closers.push(peers.onLinkState((cluster, state, error) => {
      if (state === 'removed') liveness.forgetCluster(cluster);
      else if (state !== 'connecting') liveness.setLink(cluster, state === 'connected', error ?? `federation link ${state}`);
    }));
    const federationAddress = await bind('federation', federationListen, (host, port) => peers.start({ host, port }));
    this.closers.push(() => peers.close());
    // Only schedules: the peers dialled may not exist yet, and the start never waits for them.
    // Closed before the peer manager, after letting an attempt in flight record its peering.
    const bootstrap = new BootstrapPeerings({ peers, logger });
    this.bootstrapValue = bootstrap;
    bootstrap.update(peering.peers);
    this.closers.push(() => bootstrap.close());

    const outliers = new OutlierTracker({ logger, events: this.telemetry });
    // The one place this gateway's decisions are made: both listeners, explain and status use it.
    const engine = new PolicyEngine({
      catalog: this.catalog, policies: this.policySource, localTrustDomain: config.trustDomain, locality,
      outliers, gateways: liveness,
    });
    this.closers.push(() => engine.close());
    this.engineValue = engine;
    const tunnels = new TunnelClient({
      svid, trust: this.trust, logger, connectTimeoutMs: config.dataPlane.connectTimeoutMs, windows: dataPlaneWindows(config.dataPlane),
      ...config.dataPlane.tunnel,
    });
    this.closers.push(() => tunnels.close());
    this.closers.push(tunnels.onEvent((event) => liveness.observe(event)));
    // Dead gateways and ejected (gateway, service) pairs come back by probe (closed before the tunnels).
    const prober = new GatewayProber({
      probes: tunnels, liveness, outliers, logger,
      known: (g) => this.catalog.gatewaysOf(g.cluster).some((known) => gatewayKey(known) === gatewayKey(g)),
    });
    prober.start();
    this.closers.push(() => prober.close());
    const callerOf = config.outbound.identifyCallersBySourceAddress ? identityBySourceAddress(this.catalog) : () => undefined;
    const outbound = new OutboundProxy({
      catalog: this.catalog, engine, outliers, tunnels, locality,
      callerIdentity: (address) => callerOf(address), logger,
      // Workloads may call with their SVID (design brief, "Who is calling", option 1).
      tls: {
        svid, trust: this.trust, admit: (peer) => workloadCallerRefusal(peer, config.trustDomain),
        handshakeTimeoutMs: config.limits.handshakeTimeoutMs, limits: connectionLimits(config.limits),
      },
      onRequest: (record: RequestRecord) => this.requests.add(record),
      events: this.telemetry,
      ...dataPlaneTimeouts(config.dataPlane),
      keepAliveTimeoutMs: config.dataPlane.keepAliveTimeoutMs, pool: config.dataPlane.pool,
      maxConcurrentStreams: config.limits.outbound.maxConcurrentStreams, maxHeaderListSize: config.limits.maxHeaderListSize,
      windows: dataPlaneWindows(config.dataPlane),
      maxConnections: connectionLimits(config.limits).maxConnections,
      anonymousHint: (address) => anonymousCallerHint({
        identifyBySourceAddress: config.outbound.identifyCallersBySourceAddress, catalog: this.catalog, address,
      }),
    });
    const outboundAddress = await bind('outbound', config.listen.outbound, (h, p) => outbound.listen(h, p));
    this.closers.push(() => outbound.close());
    // Fixed local forward ports: each connection a tunnel to one service, as CONNECT would be.
    const forwards = new ForwardListeners({ handler: outbound, maxConnections: connectionLimits(config.limits).maxConnections, logger });
    this.forwardsValue = forwards;
    this.closers.push(() => forwards.close());
    await addForwards(forwards, config.outbound.forward, 'outbound.forward');
    // Federated services published into Consul, each at a forward port (sources.consul[].publish).
    this.closers.push(() => publishing.close());
    await publishing.start({
      catalog: this.catalog, engine, forwards, store, identity: this.identity, logger,
      triggers: [(look) => liveness.onChange(look), (look) => this.policySource.onChange(look)],
    });

    const xdsAddress = config.xds === undefined ? undefined : await this.startXds(config.xds, { svid, engine, liveness, outliers, outbound: toHostPort(outboundAddress), callerOf });

    const serviceAccounts = await this.serviceAccountVerifier();
    const identityListen = config.listen.identity;
    let identityServer: IdentityServer | undefined;
    const issuer = new WorkloadIssuer({
      ca, trust: this.trust, store, logger,
      address: () => formatHostPort(advertised(config.advertise.identity, identityListen, identityServer?.address())),
      defaultTtlSeconds: config.trust.workloadSvidTtlSeconds,
      maxTtlSeconds: config.trust.maxWorkloadSvidTtlSeconds,
      rateLimit: config.issuance.rateLimit,
      ...(serviceAccounts === undefined ? {} : { serviceAccounts }),
    });
    const agentChannel = new AgentChannel({
      trustDomain: config.trustDomain, trust: this.trust, agents, locality, logger, pingIntervalMs: config.agents.pingIntervalMs,
      outbound: () => formatHostPort(toHostPort(outboundAddress)),
    });
    identityServer = new IdentityServer({
      trustDomain: config.trustDomain, svid, trust: this.trust, issuer, logger,
      onUpgrade: (req, socket, head) => agentChannel.handleUpgrade(req, socket, head),
      handshakeTimeoutMs: config.limits.handshakeTimeoutMs, limits: connectionLimits(config.limits),
    });
    const identityAddress = await bind('identity', identityListen, (h, p) => identityServer.listen(h, p));
    this.closers.push(() => identityServer.close());
    // Closed first: agents keep their registrations and lease (a restarted gateway restores both).
    this.closers.push(() => agentChannel.close());

    const adminToken = await ensureAdminToken(config.dataDir);
    const admin = new AdminServer({ gateway: this, adminToken, logger });
    const adminAddress = await bind('admin', config.listen.admin, (h, p) => admin.listen(h, p));
    this.closers.push(() => admin.close());

    this.components = { ca, svid, issuer, peers, eastWest, outbound, admin, outliers, liveness, healthChecks, tunnels };
    this.listenersValue = {
      eastWest: formatHostPort(toHostPort(eastWestAddress)),
      federation: formatHostPort(toHostPort(federationAddress)),
      outbound: formatHostPort(toHostPort(outboundAddress)),
      admin: formatHostPort(toHostPort(adminAddress)),
      identity: formatHostPort(toHostPort(identityAddress)),
      ...(xdsAddress === undefined ? {} : { xds: xdsAddress }),
    };
    await writeRuntimeFile(config.dataDir, { pid: process.pid, identity: this.identity, listeners: this.listenersValue });
    this.closers.push(() => removeRuntimeFile(config.dataDir));
    this.ready = true;
    logger.info({ listeners: this.listenersValue, identity: this.identity, trustDomain: config.trustDomain }, 'gateway ready');
  }

  /** The xDS server (config `xds:`): started once the outbound listener it points remote priorities at is bound. */
  private async startXds(
    settings: NonNullable<GatewayConfig['xds']>,
    parts: { svid: SvidRotator; engine: PolicyEngine; liveness: GatewayLiveness; outliers: OutlierTracker; outbound: HostPort; callerOf: (address: string) => string | undefined },
  ): Promise<string> {
    const { config, logger } = this;
    const xds = new XdsServer({
      svid: parts.svid, trust: this.trust, catalog: this.catalog, engine: parts.engine,
      locality: { ...config.locality, cluster: config.cluster }, logger,
      admit: (peer) => workloadCallerRefusal(peer, config.trustDomain),
      ...(settings.plaintext ? { plaintextCaller: parts.callerOf } : {}),
      // A client on this host dials the outbound listener; a wildcard bind is reached on loopback.
      outbound: () => ({ host: isUnspecified(parts.outbound.host) ? '127.0.0.1' : parts.outbound.host, port: parts.outbound.port }),
      // The catalog is not one: the server follows its changes service by service.
      // Ejections and their end change which clusters a decision ranks first (priority 1 or not).
      triggers: [(look) => this.catalog.onGatewayChange(look), (look) => this.policySource.onChange(look), (look) => parts.liveness.onChange(look), (look) => parts.outliers.onChange(look)],
      handshakeTimeoutMs: config.limits.handshakeTimeoutMs, limits: connectionLimits(config.limits),
    });
    const address = await bind('xds', settings.listen, (h, p) => xds.listen(h, p));
    this.closers.push(() => xds.close());
    this.xdsValue = xds;
    return formatHostPort(toHostPort(address));
  }

  /** issuance.kubernetes: the keys of jwksFile, else the API server's, kept current (api-jwks.ts). */
  private async serviceAccountVerifier(): Promise<ServiceAccountVerifier | undefined> {
    const settings = this.configValue.issuance.kubernetes;
    if (settings === undefined) return undefined;
    const { issuer, audience, maxTokenTtlSeconds } = settings;
    if (settings.jwksFile !== undefined) return new ServiceAccountTokenVerifier({ issuer, audience, maxTokenTtlSeconds, jwks: await readJwks(settings.jwksFile) });
    const jwks = new ApiServerJwks({ kubeConfig: kubeClientConfig(settings.kubeconfig, 'issuance.kubernetes'), issuer, audience, maxTokenTtlSeconds, logger: this.logger });
    jwks.start();
    this.closers.push(() => jwks.close());
    this.apiJwks = jwks;
    return jwks;
  }

  /** Graceful stop: listeners and links close in reverse start order. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ready = false;
      for (const close of this.closers.reverse()) {
        try {
          await close();
        } catch (err) {
          this.logger.warn({ err }, 'error while closing');
        }
      }
      this.logger.info('gateway stopped');
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Node's process metrics (process_*, nodejs_*) describe the process, not a gateway: the first
 * gateway of a process exposes them (tests and the demo may run several in one).
 */
let processMetricsTaken = false;
function takeProcessMetrics(): boolean {
  if (processMetricsTaken) return false;
  processMetricsTaken = true;
  return true;
}

/** One Consul datacenter as a source; its ACL token is read from its file now (a missing one stops the start). */
async function consulSource(settings: ConsulSourceConfig, config: GatewayConfig, logger: Logger): Promise<ConsulSource> {
  let token: string | undefined;
  if (settings.tokenFile !== undefined) {
    try {
      token = (await readFile(settings.tokenFile, 'utf8')).trim();
    } catch (err) {
      throw new CausewayError(ErrorCodes.CONFIG_READ, `sources.consul ${settings.name}: cannot read tokenFile ${settings.tokenFile}: ${describeError(err)}`, { cause: err });
    }
  }
  // Its TLS files too: a missing or mismatched one stops the start with the field named.
  const tls = settings.tls ? await readConsulTls(settings.name, settings.tlsFiles) : undefined;
  return new ConsulSource({
    name: settings.name, host: settings.address.host, port: settings.address.port, secure: tls !== undefined, ...(tls === undefined ? {} : { tls }),
    concurrency: settings.concurrency, resyncMs: settings.resyncMs,
    ...(token === undefined ? {} : { token }), ...(settings.datacenter === undefined ? {} : { datacenter: settings.datacenter }),
    namespace: settings.namespace, meshPort: settings.port, exported: settings.exported,
    locality: { ...config.locality, cluster: config.cluster }, identityTemplate: settings.identity,
    wait: `${Math.round(settings.waitMs / 1000)}s`, logger,
  });
}

/** The data plane's timeouts, as the listeners take them. */
function dataPlaneTimeouts(d: DataPlaneConfig): { connectTimeoutMs: number; idleTimeoutMs: number; headersTimeoutMs: number; maxHeadBytes: number } {
  return { connectTimeoutMs: d.connectTimeoutMs, idleTimeoutMs: d.idleTimeoutMs, headersTimeoutMs: d.headersTimeoutMs, maxHeadBytes: d.maxHeadBytes };
}

function dataPlaneWindows(d: DataPlaneConfig): WindowTuning {
  return { streamWindowBytes: d.streamWindowBytes, sessionWindowBytes: d.sessionWindowBytes };
}

/** Binds one listener; a failure names the listener and its address (CW_LISTEN_FAILED). */
async function bind(name: string, at: HostPort, listen: (host: string, port: number) => Promise<AddressInfo>): Promise<AddressInfo> {
  try {
    return await listen(at.host, at.port);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 'the address is already in use' : describeError(err);
    throw new CausewayError(ErrorCodes.LISTEN_FAILED, `listen.${name}: cannot listen on ${formatHostPort(at)}: ${reason}`, { cause: err });
  }
}

function toHostPort(address: AddressInfo): HostPort {
  return { host: address.address, port: address.port };
}

/**
 * What peers should dial: the configured advertise address, else the bound one (config
 * validation already refused a wildcard listen address without an advertise address).
 */
function advertised(configured: HostPort | undefined, listen: HostPort, bound: AddressInfo | undefined): HostPort {
  return configured ?? { host: listen.host, port: bound?.port ?? listen.port };
}
