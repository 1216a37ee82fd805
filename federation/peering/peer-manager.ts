import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import {
  CausewayError, ErrorCodes, NAME_PATTERN, describeError, exportedTo, isCausewayError, peerLabels, silentLogger, validatePeerLabels,
  NO_EVENTS, type CatalogReader, type CatalogWriter, type EventSink, type ExportPeer, type Locality, type Logger, type ServiceRecord, type Store,
} from '../../registry/index.js';
import type { PeerEvent } from './peer-events.js';
import {
  decodeBundle, encodeBundle, parseSpiffeId, type CertificateAuthority, type PeerIdentity, type SvidSource, type TrustStore,
} from '../trust/index.js';
import { DEFAULT_FEDERATION_LIMITS, FederationServer, type FederationListenerLimits, type LinkCall } from './federation-server.js';
import { toGrpcStatus } from './grpc-errors.js';
import { LinkDialer, type BackoffOptions, type SessionHooks } from './link-dialer.js';
import { LinkSession, emptyStats, type LinkStream, type LocalGateway } from './link-session.js';
import { PeerStore, type AcceptedBootstrap, type PeerRecord, type RedeemedToken } from './peer-store.js';
import { peerStatus, type PeerEntry, type PeerState, type PeerStatus } from './peer-status.js';
import type { WireRedeemRequest, WireRedeemResponse } from './proto.js';
import { redeemToken } from './redeem-client.js';
import { checkRedeemCredentials, checkRequester } from './redeem-request.js';
import type { BootstrapCredential } from './bootstrap-credential.js';
import { responseProof } from './bootstrap-proof.js';
import { redeemBootstrap } from './bootstrap-redeem-client.js';
import { checkBootstrapRedemption } from './bootstrap-request.js';
import { hostPortProblem } from './address.js';
import { TokenIssuer } from '../tokens/index.js';
import { createPeeringToken, parsePeeringToken } from './token.js';

export interface PeerManagerOptions {
  cluster: string;
  trustDomain: string;
  /** Our gateway's SPIFFE ID. */
  gatewayId: string;
  locality: Locality;
  /** Our advertised east-west host:port (sent in Hello). */
  eastWestAddress: string;
  /** Our advertised federation host:port (put in tokens); a function when only known once bound. */
  federationAddress: string | (() => string);
  ca: CertificateAuthority;
  svid: SvidSource;
  trust: TrustStore;
  catalog: CatalogReader & CatalogWriter;
  store: Store;
  logger?: Logger;
  /** ms since the epoch. */
  now?: () => number;
  /** Heartbeat interval on every link (default 5 s). */
  heartbeatMs?: number;
  /** A link that received nothing this long is dead (default 15 s): this watchdog, not an idle timer, decides liveness. */
  deadAfterMs?: number;
  /** The federation listener's limits (defaults: DEFAULT_FEDERATION_LIMITS). */
  listener?: Partial<FederationListenerLimits>;
  backoff?: BackoffOptions;
  /** Bound on addPeer's dial + Redeem (default 10 s). */
  dialTimeoutMs?: number;
  /** Jitter source for the backoff (tests). */
  random?: () => number;
  /** Telemetry: link state changes and the records received (peer-events.ts). */
  events?: EventSink<PeerEvent>;
  /**
   * The key bootstrap credentials presented to us are derived from (64 hex, the key file's
   * trimmed text; bootstrap-credential.ts). Absent: bootstrap redemptions are refused.
   */
  bootstrapKey?: string;
}

/**
 * How long an accepted bootstrap credential's id is kept after it expired: a clock stepped
 * back within this window still finds it used.
 */
const ACCEPTED_BOOTSTRAP_GRACE_SECONDS = 3600;

/**
 * The federation's control object: peering by token (both the issuing and the redeeming
 * side), the federation listener, and one replicating Link per peer (docs/protocol.md).
 * State changes (peers, tokens) are serialised and persisted before they take effect.
 */
export class PeerManager {
  private readonly options: PeerManagerOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly events: EventSink<PeerEvent>;
  private readonly peerStore: PeerStore;
  private readonly tokens: TokenIssuer;
  private readonly peers = new Map<string, PeerEntry>();
  private readonly limits: FederationListenerLimits;
  /** Tokens and bootstrap credentials we redeemed (until they expire): presenting one again is refused locally. */
  private redeemed: RedeemedToken[] = [];
  /** Bootstrap credentials presented to us and accepted (persisted with the peers; one-time). */
  private acceptedBootstrap: AcceptedBootstrap[] = [];
  private bootstrapKey: string | undefined;
  /** Clusters / trust domains / names of addPeer calls in flight. */
  private readonly reserved = new Set<string>();
  private readonly linkListeners = new Set<(cluster: string, state: PeerState, error: string | undefined) => void>();
  private server: FederationServer | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private started = false;
  private closing: Promise<void> | undefined;

  constructor(options: PeerManagerOptions) {
    this.options = options;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'peering' });
    this.now = options.now ?? Date.now;
    this.events = options.events ?? NO_EVENTS;
    this.limits = { ...DEFAULT_FEDERATION_LIMITS, ...options.listener };
    this.peerStore = new PeerStore(options.store, 'peers');
    this.tokens = new TokenIssuer({ store: options.store, name: 'peering-tokens', logger: this.logger });
    this.bootstrapKey = options.bootstrapKey;
  }

  /** Replaces the bootstrap key (a config reload re-read its file); undefined refuses bootstrap redemptions from now on. */
  setBootstrapKey(key: string | undefined): void {
    this.bootstrapKey = key;
  }

  /** Whether bootstrap redemptions are accepted (a key is set). */
  acceptsBootstrap(): boolean {
    return this.bootstrapKey !== undefined;
  }

  /** Restores peers (and their bundles), opens the federation listener, dials 'dialer' peers. */
  async start(listen: { host: string; port: number }): Promise<AddressInfo> {
    this.assertOpen();
    if (this.started) throw new CausewayError(ErrorCodes.USAGE, 'PeerManager already started');
    this.started = true;
    const { trust, ca } = this.options;
    if (trust.get(this.options.trustDomain) === undefined) trust.set(ca.bundle());
    const state = await this.peerStore.load();
    this.redeemed = state.redeemedTokens;
    this.acceptedBootstrap = state.acceptedBootstrap;
    for (const record of state.peers) {
      // A peering the other side removed stays listed, but is neither trusted nor dialled.
      if (record.removedAt === undefined) this.trustPeerBundle(record);
      this.peers.set(record.name, {
        record, state: record.removedAt === undefined ? 'connecting' : 'removed', stateSinceMs: record.removedAt ?? this.now(), stats: emptyStats(),
        ...(record.removedReason === undefined ? {} : { lastError: record.removedReason }),
      });
    }
    this.server = new FederationServer({
      svid: this.options.svid,
      trust,
      logger: this.logger,
      limits: this.limits,
      handlers: {
        redeem: (request, identity) => this.serialised(() => (request.bootstrap === null || request.bootstrap === undefined
          ? this.acceptRedemption(request, identity) : this.acceptBootstrap(request, identity))),
        link: (call, identity) => this.acceptLink(call, identity),
      },
    });
    const address = await this.server.listen(listen.host, listen.port);
    for (const entry of this.peers.values()) if (entry.record.role === 'dialer' && entry.state !== 'removed') this.startDialer(entry);
    this.logger.info({ address: `${address.address}:${address.port}`, peers: this.peers.size }, 'federation listener up');
    return address;
  }

  /** The bound federation listener address (undefined before start). */
  address(): AddressInfo | undefined {
    return this.server?.address();
  }

  /**
   * Mints a one-time peering token for another gateway to redeem with addPeer. `labels` go
   * to the peering the redeemer gets here (what exportTo label selectors match).
   */
  async createToken(options: { ttlSeconds: number; peerName?: string; labels?: Record<string, string> }): Promise<string> {
    this.assertOpen();
    if (options.peerName !== undefined) checkName(options.peerName, 'peerName');
    const labels = options.labels === undefined ? undefined : checkLabels(options.labels);
    const now = this.now();
    const created = await this.tokens.issue(() => createPeeringToken({
      cluster: this.options.cluster,
      trustDomain: this.options.trustDomain,
      federationAddress: typeof this.options.federationAddress === 'function' ? this.options.federationAddress() : this.options.federationAddress,
      bundle: encodeBundle(this.options.trust.get(this.options.trustDomain) ?? this.options.ca.bundle()),
      ttlSeconds: options.ttlSeconds,
      now,
    }), {
      ...(options.peerName === undefined ? {} : { peerName: options.peerName }),
      ...(labels === undefined || Object.keys(labels).length === 0 ? {} : { peerLabels: labels }),
    }, now);
    return created.text;
  }

  /**
   * Redeems another gateway's token and starts the link to it. The token is checked locally
   * first (malformed/tampered/expired fail before any network I/O); on ANY failure nothing
   * is persisted or trusted.
   */
  async addPeer(tokenText: string, options: { name?: string; labels?: Record<string, string> } = {}): Promise<PeerStatus> {
    this.assertOpen();
    if (!this.started) throw new CausewayError(ErrorCodes.USAGE, 'PeerManager.start() must be called before addPeer');
    const labels = options.labels === undefined ? undefined : checkLabels(options.labels);
    const token = parsePeeringToken(tokenText, this.now());
    const name = options.name ?? token.cluster;
    checkName(name, 'name');
    const claims = [`cluster:${token.cluster}`, `td:${token.trustDomain}`, `name:${name}`];
    this.checkNewPeer(name, token.cluster, token.trustDomain);
    if (this.redeemed.some((t) => t.id === token.id)) {
      throw new CausewayError(ErrorCodes.TOKEN_USED, 'this gateway already redeemed that peering token; ask the peer for a new one');
    }
    if (claims.some((c) => this.reserved.has(c))) {
      throw new CausewayError(ErrorCodes.PEER_EXISTS, `a peering with cluster ${token.cluster} is already being added`);
    }
    for (const c of claims) this.reserved.add(c);
    try {
      const response = await redeemToken({
        token,
        svid: this.options.svid.current(),
        requester: this.requester(),
        timeoutMs: this.options.dialTimeoutMs ?? 10_000,
      });
      return await this.adoptDialled({
        name,
        cluster: token.cluster,
        trustDomain: token.trustDomain,
        bundle: token.bundle,
        federationAddress: token.federationAddress,
        role: 'dialer',
        addedAt: this.now(),
        ...(response.gatewayId === '' ? {} : { gatewayId: response.gatewayId }),
        ...(labels === undefined || Object.keys(labels).length === 0 ? {} : { labels }),
      }, { id: token.id, exp: token.exp });
    } finally {
      for (const c of claims) this.reserved.delete(c);
    }
  }

  /**
   * Redeems a bootstrap credential (minted by Terraform for us to dial `credential.to`) at
   * `address` and starts the link. Checked locally first (that it is ours to present, not
   * expired, not already used here); the dialled gateway's bundle is adopted only after its
   * answer proved it holds the credential's secret. On ANY failure nothing is persisted or
   * trusted. The peer is named after the dialled cluster, as the credential names it.
   */
  async addBootstrapPeer(credential: BootstrapCredential, address: string): Promise<PeerStatus> {
    this.assertOpen();
    if (!this.started) throw new CausewayError(ErrorCodes.USAGE, 'PeerManager.start() must be called before addBootstrapPeer');
    const c = credential;
    if (c.from !== this.options.cluster) {
      throw new CausewayError(ErrorCodes.TOKEN_WRONG_PEER, `the bootstrap credential is for cluster "${c.from}" to present, not "${this.options.cluster}"`);
    }
    if (Math.floor(this.now() / 1000) >= c.exp) {
      throw new CausewayError(ErrorCodes.TOKEN_EXPIRED, `the bootstrap credential for ${c.to} expired at ${new Date(c.exp * 1000).toISOString()}`);
    }
    const problem = hostPortProblem(address);
    if (problem !== undefined) throw new CausewayError(ErrorCodes.USAGE, `address: ${problem}`);
    if (this.redeemed.some((t) => t.id === c.id)) {
      throw new CausewayError(ErrorCodes.TOKEN_USED, `this gateway already used that bootstrap credential for ${c.to}; mint a new one (a new id)`);
    }
    // The trust domain is only known from the answer; name and cluster are checked now too.
    this.checkNewPeer(c.to, c.to, '');
    const claims = [`cluster:${c.to}`, `name:${c.to}`];
    if (claims.some((claim) => this.reserved.has(claim))) {
      throw new CausewayError(ErrorCodes.PEER_EXISTS, `a peering with cluster ${c.to} is already being added`);
    }
    for (const claim of claims) this.reserved.add(claim);
    try {
      const response = await redeemBootstrap({
        credential: c,
        address,
        requester: this.requester(),
        timeoutMs: this.options.dialTimeoutMs ?? 10_000,
      });
      return await this.adoptDialled({
        name: c.to,
        cluster: response.cluster,
        trustDomain: response.trustDomain,
        bundle: response.spiffeBundleJson,
        federationAddress: address,
        role: 'dialer',
        addedAt: this.now(),
        ...(response.gatewayId === '' ? {} : { gatewayId: response.gatewayId }),
      }, { id: c.id, exp: c.exp });
    } finally {
      for (const claim of claims) this.reserved.delete(claim);
    }
  }

  /** Records a peer we dial (its redemption succeeded) with the spent credential, and starts dialling it. */
  private adoptDialled(record: PeerRecord, spent: RedeemedToken): Promise<PeerStatus> {
    return this.serialised(async () => {
      this.assertOpen();
      this.checkNewPeer(record.name, record.cluster, record.trustDomain);
      const entry = await this.persistNewPeer(record, { redeemed: spent });
      this.startDialer(entry);
      this.logger.info({ peer: record.name, cluster: record.cluster, trustDomain: record.trustDomain }, 'peer added (we dial it)');
      return this.statusOf(entry);
    });
  }

  /** Who we are, as a redemption tells the other side. */
  private requester(): { cluster: string; trustDomain: string; bundleJson: string; gatewayId: string } {
    return {
      cluster: this.options.cluster,
      trustDomain: this.options.trustDomain,
      bundleJson: this.ownBundleJson(),
      gatewayId: this.options.gatewayId,
    };
  }

  private ownBundleJson(): string {
    return encodeBundle(this.options.trust.get(this.options.trustDomain) ?? this.options.ca.bundle());
  }

  /**
   * Tells the peer over its live link (a Removed message), stops the link, forgets the
   * peer's records and gateways, and stops trusting its domain. The goodbye gets at most
   * 250 ms to leave before trust is withdrawn (which cuts every connection of the domain);
   * the peer is out of our peer list, and its links refused, from the start.
   */
  removePeer(name: string): Promise<void> {
    return this.serialised(async () => {
      this.assertOpen();
      const entry = this.peers.get(name);
      if (entry === undefined) throw new CausewayError(ErrorCodes.PEER_UNKNOWN, `no peer named "${name}"`);
      await this.savePeers([...this.peers.values()].filter((e) => e !== entry).map((e) => e.record));
      this.peers.delete(name);
      const { cluster, trustDomain } = entry.record;
      const goodbye = entry.session?.sayRemoved(`peering removed by ${this.options.cluster}`);
      entry.dialer?.close();
      this.options.catalog.dropOrigin(cluster);
      this.options.catalog.removeGateways(cluster);
      await goodbye;
      if (entry.state !== 'removed') this.untrust(trustDomain);
      this.logger.info({ peer: name, cluster, trustDomain }, 'peer removed');
    });
  }

  /** Stops trusting a peer's domain: the listeners refuse its certificates, live connections are cut. */
  private untrust(trustDomain: string): void {
    this.options.trust.remove(trustDomain);
    this.server?.dropConnections(trustDomain);
  }

  /**
   * The peer told us its operator removed the peering: stop dialling, withdraw trust and its
   * records at once, and keep the record marked removed (persisted) so status shows why.
   */
  private peerRemovedUs(entry: PeerEntry, reason: string): void {
    if (this.peers.get(entry.record.name) !== entry || entry.state === 'removed') return;
    const { cluster, trustDomain } = entry.record;
    entry.record = { ...entry.record, removedAt: this.now(), removedReason: reason };
    this.setState(entry, 'removed', reason);
    entry.dialer?.close();
    this.untrust(trustDomain);
    this.options.catalog.dropOrigin(cluster);
    this.options.catalog.removeGateways(cluster);
    this.logger.warn({ peer: entry.record.name, cluster, trustDomain, reason }, 'the peer removed this peering; its trust domain is no longer trusted');
    void this.serialised(async () => {
      if (this.peers.get(entry.record.name) !== entry) return;
      await this.savePeers([...this.peers.values()].map((e) => e.record));
    }).catch((err: unknown) => this.logger.error({ peer: entry.record.name, reason: describeError(err) }, 'cannot persist the removed peering'));
  }

  /**
   * Subscribes to changes of each peer link's state (`connected`, `disconnected` once it lost
   * its heartbeats or could not be dialed, `removed`), by the peer's cluster. Returns the
   * unsubscribe function. The data plane uses it to hold back a cluster whose link is down.
   */
  onLinkState(listener: (cluster: string, state: PeerState, error: string | undefined) => void): () => void {
    this.linkListeners.add(listener);
    return () => this.linkListeners.delete(listener);
  }

  /**
   * A connected link silent for two heartbeat intervals is stale: the peer's heartbeats stopped
   * arriving (it froze, or the path drops packets) long before the watchdog gives up on it at
   * deadAfterMs, and status must not show it healthy in the meantime.
   */
  private statusOf(entry: PeerEntry): PeerStatus {
    const heartbeatMs = this.options.heartbeatMs ?? 5_000;
    return peerStatus(entry, this.options.catalog, this.options.trust, this.exportPeer(entry), { now: this.now(), staleAfterMs: 2 * heartbeatMs });
  }

  list(): PeerStatus[] {
    return [...this.peers.values()].map((e) => this.statusOf(e)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Whether the peer of `trustDomain` may see `record` — the same rule the links apply
   * (exported, and admitted by its exportTo). The east-west listener asks it, so a service
   * not exported to a peer is unknown to that peer's gateways there too. A trust domain that
   * is no peer (here: not loaded yet) is admitted only by an exportTo-less export — what any
   * trusted domain got before exportTo existed.
   */
  exportsTo(record: Pick<ServiceRecord, 'exported' | 'exportTo'>, trustDomain: string): boolean {
    if (!record.exported) return false;
    if (record.exportTo === undefined) return true;
    const entry = [...this.peers.values()].find((e) => e.state !== 'removed' && e.record.trustDomain === trustDomain);
    return entry !== undefined && exportedTo(record, this.exportPeer(entry));
  }

  /**
   * The peer as the export rule sees it: the labels of its live link's Hello, else those of
   * the gateway it last announced (persisted with the catalog), with our operator's labels.
   */
  private exportPeer(entry: PeerEntry): ExportPeer {
    const live = entry.session?.exportPeer;
    if (live !== undefined) return live;
    const { name, cluster, labels } = entry.record;
    return { name, cluster, labels: peerLabels(this.options.catalog.gatewaysOf(cluster)[0]?.locality, labels) };
  }

  /** Ends links gracefully, stops the listener. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const entry of this.peers.values()) {
        entry.dialer?.close();
        entry.session?.close();
      }
      await this.server?.close();
      await this.queue.catch(() => undefined);
      this.logger.info('peering closed');
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- issuer side -------------------------------------------------------------------------

  private async acceptRedemption(request: WireRedeemRequest, identity: PeerIdentity | undefined): Promise<WireRedeemResponse> {
    this.assertOpen();
    const r = request;
    checkRedeemCredentials(r);
    const now = this.now();
    // The token first: nothing about our peers is revealed to a caller without a valid token.
    const token = await this.tokens.check(r.tokenId, r.secret, r.payloadDigest, now);
    checkRequester(r, identity);
    // Re-peering: the other side removed us and redeems a fresh token of ours. Only a token
    // our operator minted FOR that peer's name replaces its record (and its trust root): an
    // unnamed token, or one named for someone else, must never take over an existing peer's
    // trust domain. Only a record the other side dials is replaceable (we never dial it).
    const held = [...this.peers.values()].find((e) => e.state !== 'removed' &&
      e.record.role === 'acceptor' && e.record.cluster === r.cluster && e.record.trustDomain === r.trustDomain);
    const previous = held !== undefined && token.peerName === held.record.name ? held : undefined;
    const name = token.peerName ?? r.cluster;
    // A re-peering keeps the replaced peering's labels unless the new token brings its own.
    const labels = token.peerLabels ?? previous?.record.labels;
    this.checkNewPeer(name, r.cluster, r.trustDomain, previous,
      held !== undefined && previous === undefined ? `; to replace it, mint the token with --peer-name ${held.record.name}` : '');
    await this.tokens.redeem(r.tokenId, r.secret, r.payloadDigest, now, r.cluster);
    try {
      await this.admitAcceptor(r, name, labels, previous, now);
    } catch (err) {
      // Nothing was peered, so the token is not spent: the redeemer may retry with it.
      await this.tokens.release(r.tokenId).catch((releaseErr: unknown) =>
        this.logger.error({ tokenId: r.tokenId, reason: describeError(releaseErr) }, 'cannot release the peering token after a failed redemption'));
      throw err;
    }
    return this.redeemResponse();
  }

  /**
   * A bootstrap redemption (bootstrap-request.ts has the checks before the proof). After
   * it: the id must be unused, the requester valid, and the peering new — or a re-peering of
   * the peer of that very name, which a credential minted for that name consents to, as a
   * token minted with --peer-name does. The id is persisted as used in the same write as the
   * peering, before we answer; a refusal changes nothing.
   */
  private async acceptBootstrap(r: WireRedeemRequest, identity: PeerIdentity | undefined): Promise<WireRedeemResponse> {
    this.assertOpen();
    const now = this.now();
    const credential = checkBootstrapRedemption(r, this.bootstrapKey, this.options.cluster, now);
    const used = this.acceptedBootstrap.find((a) => a.id === credential.id);
    if (used !== undefined) {
      throw new CausewayError(ErrorCodes.TOKEN_USED, `the bootstrap credential was already used by ${used.from} at ${new Date(used.usedAt).toISOString()}; mint a new one (a new id)`);
    }
    checkRequester(r, identity);
    const name = credential.from;
    const held = [...this.peers.values()].find((e) => e.state !== 'removed' &&
      e.record.role === 'acceptor' && e.record.cluster === r.cluster && e.record.trustDomain === r.trustDomain);
    const previous = held !== undefined && held.record.name === name ? held : undefined;
    this.checkNewPeer(name, r.cluster, r.trustDomain, previous);
    await this.admitAcceptor(r, name, previous?.record.labels, previous, now, { id: credential.id, exp: credential.exp, from: credential.from, usedAt: now });
    this.logger.info({ peer: name, credentialId: credential.id }, 'bootstrap credential accepted');
    const response = this.redeemResponse();
    return {
      ...response,
      bootstrapProof: responseProof(credential.secret, {
        nonce: r.bootstrap?.nonce ?? '', id: credential.id, cluster: response.cluster, trustDomain: response.trustDomain,
        gatewayId: response.gatewayId, bundleJson: response.spiffeBundleJson,
      }),
    };
  }

  /**
   * Records the requester of a redemption as a peer that dials us, replacing `previous` (a
   * re-peering) — the new bundle replaces the old one whatever its sequence, the peer may
   * have a new CA. On failure everything is as before.
   */
  private async admitAcceptor(
    r: WireRedeemRequest, name: string, labels: Record<string, string> | undefined, previous: PeerEntry | undefined, now: number, accepted?: AcceptedBootstrap,
  ): Promise<void> {
    if (previous !== undefined) {
      this.peers.delete(previous.record.name);
      this.options.trust.remove(previous.record.trustDomain);
    }
    try {
      await this.persistNewPeer({
        name,
        cluster: r.cluster,
        trustDomain: r.trustDomain,
        bundle: r.spiffeBundleJson,
        role: 'acceptor',
        addedAt: now,
        gatewayId: r.gatewayId,
        ...(labels === undefined ? {} : { labels }),
      }, accepted === undefined ? {} : { accepted });
    } catch (err) {
      if (previous !== undefined) {
        this.peers.set(previous.record.name, previous);
        this.trustPeerBundle(previous.record);
      }
      throw err;
    }
    if (previous !== undefined) {
      previous.session?.close(new CausewayError(ErrorCodes.CLOSED, 'replaced by a new peering with the same cluster'));
      this.logger.info({ peer: previous.record.name, cluster: r.cluster }, 're-peering replaced the previous peering');
    }
    this.logger.info({ peer: name, cluster: r.cluster, trustDomain: r.trustDomain }, 'peer added (it dials us)');
  }

  private redeemResponse(): WireRedeemResponse {
    return {
      cluster: this.options.cluster,
      trustDomain: this.options.trustDomain,
      spiffeBundleJson: this.ownBundleJson(),
      gatewayId: this.options.gatewayId,
    };
  }

  private acceptLink(call: LinkCall, identity: PeerIdentity): void {
    const entry = [...this.peers.values()].find((e) => e.state !== 'removed' && e.record.trustDomain === identity.trustDomain);
    if (this.closing !== undefined || entry === undefined) {
      this.logger.warn({ identity: identity.spiffeId }, 'link refused: trust domain is not a peer');
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: `trust domain ${identity.trustDomain} is not a peer of ${this.options.cluster}` });
      return;
    }
    // Any gateway replica of the peer may link; a workload certificate of its domain may not.
    if (!parseSpiffeId(identity.spiffeId).path.startsWith('/gateway/')) {
      call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `${identity.spiffeId} is not a gateway identity` });
      return;
    }
    if (entry.record.role === 'dialer') {
      // We dial this peer; accepting its links too would make the two sides replace each
      // other's link forever.
      call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: `${this.options.cluster} dials ${entry.record.cluster}; it does not accept links from it` });
      return;
    }
    entry.session?.close(new CausewayError(ErrorCodes.CLOSED, 'replaced by a newer link from the same peer'));
    let session: LinkSession | undefined;
    const hooks: SessionHooks = {
      terminate: (error) => {
        if (call.cancelled) return;
        if (error === undefined) call.end();
        else call.emit('error', toGrpcStatus(error));
      },
      onConnected: () => this.setState(entry, 'connected'),
      onEnd: (error) => {
        if (entry.session !== session) return;
        entry.session = undefined;
        this.setState(entry, 'disconnected', error?.message);
      },
    };
    session = this.startSession(entry, call, () => identity.spiffeId, hooks);
    call.on('cancelled', () => session?.lost(new CausewayError(ErrorCodes.PEER_UNREACHABLE, 'the peer cancelled the link')));
  }

  // --- links -------------------------------------------------------------------------------

  private startDialer(entry: PeerEntry): void {
    const dialer = new LinkDialer({
      peer: () => (this.peers.get(entry.record.name) === entry ? entry.record : undefined),
      svid: this.options.svid,
      trust: this.options.trust,
      backoff: this.options.backoff ?? { initialMs: 250, maxMs: 30_000 },
      maxMessageBytes: this.limits.maxMessageBytes,
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      logger: this.logger,
      startSession: (stream, peerIdentity, hooks) => this.startSession(entry, stream, peerIdentity, {
        ...hooks,
        onEnd: (error) => {
          entry.session = undefined;
          hooks.onEnd(error);
        },
      }),
      onState: (state, error) => this.setState(entry, state, error),
    });
    entry.dialer = dialer;
    dialer.start();
  }

  private startSession(entry: PeerEntry, stream: LinkStream, peerIdentity: () => string | undefined, hooks: SessionHooks): LinkSession {
    const session = new LinkSession({
      stream,
      peer: { name: entry.record.name, cluster: entry.record.cluster, trustDomain: entry.record.trustDomain, labels: entry.record.labels ?? {} },
      peerIdentity,
      local: this.localGateway(),
      catalog: this.options.catalog,
      trust: this.options.trust,
      stats: entry.stats,
      heartbeatMs: this.options.heartbeatMs ?? 5_000,
      deadAfterMs: this.options.deadAfterMs ?? 15_000,
      now: this.now,
      logger: this.logger,
      events: this.events,
      onConnected: hooks.onConnected,
      onBundle: (bundleJson) => this.rememberBundle(entry, bundleJson),
      onRemoved: (reason) => this.peerRemovedUs(entry, reason),
      terminate: hooks.terminate,
      onEnd: hooks.onEnd,
    });
    entry.session = session;
    session.start();
    return session;
  }

  /** Persists a newer bundle received over the link so a restart trusts it. */
  private rememberBundle(entry: PeerEntry, bundleJson: string): void {
    void this.serialised(async () => {
      if (this.peers.get(entry.record.name) !== entry || entry.state === 'removed') return;
      entry.record = { ...entry.record, bundle: bundleJson };
      await this.savePeers([...this.peers.values()].map((e) => e.record));
    }).catch((err: unknown) => this.logger.error({ peer: entry.record.name, reason: describeError(err) }, 'cannot persist the peer bundle'));
  }

  private setState(entry: PeerEntry, state: 'connected' | 'disconnected' | 'removed', error?: string): void {
    // Removed is final: the link ending afterwards must not make it look merely down.
    if (entry.state === 'removed') return;
    const changed = entry.state !== state;
    if (changed) entry.stateSinceMs = this.now();
    entry.state = state;
    if (state === 'connected') delete entry.lastError;
    else if (error !== undefined) entry.lastError = error;
    if (!changed) return;
    this.events.publish({ type: 'peer.link', peer: entry.record.name, cluster: entry.record.cluster, state, ...(entry.lastError === undefined ? {} : { error: entry.lastError }) });
    for (const listener of this.linkListeners) {
      try {
        listener(entry.record.cluster, state, entry.lastError);
      } catch (err) {
        this.logger.error({ peer: entry.record.name, reason: describeError(err) }, 'link state listener failed');
      }
    }
  }

  // --- helpers -----------------------------------------------------------------------------

  private localGateway(): LocalGateway {
    return {
      cluster: this.options.cluster,
      trustDomain: this.options.trustDomain,
      gatewayId: this.options.gatewayId,
      eastWestAddress: this.options.eastWestAddress,
      locality: this.options.locality,
    };
  }

  /** No other peer (`replacing` and peerings the other side removed aside) may hold the name, cluster or trust domain. */
  private checkNewPeer(name: string, cluster: string, trustDomain: string, replacing?: PeerEntry, hint = ''): void {
    if (cluster === this.options.cluster) throw new CausewayError(ErrorCodes.PEER_EXISTS, `cluster ${cluster} is this gateway's own cluster`);
    if (trustDomain === this.options.trustDomain) throw new CausewayError(ErrorCodes.PEER_EXISTS, `trust domain ${trustDomain} is this gateway's own`);
    for (const entry of this.peers.values()) {
      if (entry === replacing || entry.state === 'removed') continue;
      const { record } = entry;
      if (record.cluster === cluster || record.trustDomain === trustDomain || record.name === name) {
        throw new CausewayError(ErrorCodes.PEER_EXISTS,
          `already peered with ${record.name} (cluster ${record.cluster}, trust domain ${record.trustDomain})${hint}`);
      }
    }
  }

  /** Trusts the peer's bundle, then persists the peer list; undoes the trust if that fails. */
  private async persistNewPeer(record: PeerRecord, spent: { redeemed?: RedeemedToken; accepted?: AcceptedBootstrap } = {}): Promise<PeerEntry> {
    // A removed peering of the same name, cluster or trust domain gives way to the new one.
    const superseded = [...this.peers.values()].filter((e) => e.state === 'removed' &&
      (e.record.name === record.name || e.record.cluster === record.cluster || e.record.trustDomain === record.trustDomain));
    const trusted = this.trustPeerBundle(record);
    try {
      const kept = [...this.peers.values()].filter((e) => !superseded.includes(e)).map((e) => e.record);
      await this.savePeers([...kept, record], spent);
    } catch (err) {
      if (trusted) this.options.trust.remove(record.trustDomain);
      throw err;
    }
    for (const e of superseded) this.peers.delete(e.record.name);
    const entry: PeerEntry = { record, state: 'connecting', stateSinceMs: this.now(), stats: emptyStats() };
    this.peers.set(record.name, entry);
    return entry;
  }

  /**
   * Persists the peers with the credentials spent so far and `spent` (dropping expired
   * ones), then adopts the latter: nothing counts as used before it is on disk.
   */
  private async savePeers(peers: PeerRecord[], spent: { redeemed?: RedeemedToken; accepted?: AcceptedBootstrap } = {}): Promise<void> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const redeemed = [...this.redeemed, ...(spent.redeemed === undefined ? [] : [spent.redeemed])].filter((t) => t.exp > nowSeconds);
    const accepted = [...this.acceptedBootstrap, ...(spent.accepted === undefined ? [] : [spent.accepted])]
      .filter((a) => a.exp + ACCEPTED_BOOTSTRAP_GRACE_SECONDS > nowSeconds);
    await this.peerStore.save({ peers, redeemedTokens: redeemed, acceptedBootstrap: accepted });
    this.redeemed = redeemed;
    this.acceptedBootstrap = accepted;
  }

  /** Puts a peer's bundle into the TrustStore; true if it changed anything. */
  private trustPeerBundle(record: PeerRecord): boolean {
    let bundle;
    try {
      bundle = decodeBundle(record.trustDomain, record.bundle);
    } catch (err) {
      throw new CausewayError(ErrorCodes.STORE_CORRUPT, `peer ${record.name}: stored bundle is invalid: ${describeError(err)}`, { cause: err });
    }
    try {
      return this.options.trust.set(bundle);
    } catch (err) {
      // A newer bundle of that domain is already held: keep it.
      if (isCausewayError(err, ErrorCodes.BUNDLE_STALE)) return false;
      throw err;
    }
  }

  private assertOpen(): void {
    if (this.closing !== undefined) throw new CausewayError(ErrorCodes.CLOSED, 'the peer manager is closed');
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function checkName(name: string, field: string): void {
  if (!NAME_PATTERN.test(name)) throw new CausewayError(ErrorCodes.USAGE, `${field}: "${name}" is not a DNS-1123 label`);
}

function checkLabels(value: Record<string, string>): Record<string, string> {
  const errors: string[] = [];
  const labels = validatePeerLabels(value, 'labels', errors);
  if (labels === undefined) throw new CausewayError(ErrorCodes.USAGE, errors[0] ?? 'labels: invalid', { details: errors });
  return labels;
}
