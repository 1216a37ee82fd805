import { silentLogger, type GatewayRecord, type Logger } from '../../registry/index.js';
import type { GatewayCondition, GatewayState, GatewayStateReader } from './gateway-state.js';
import { gatewayKey } from './outlier-tracker.js';
import type { TunnelEvent } from './tunnel-client.js';

export interface GatewayLivenessOptions {
  now?: () => number;
  logger?: Logger;
}

/** One remote gateway as GET /v1/status shows it (`outbound.gateways`). */
export interface GatewayLivenessView {
  gateway: string;
  address: string;
  cluster: string;
  condition: GatewayCondition;
  reason: string;
  changedAtMs: number;
}

interface DeadMark {
  gateway: GatewayRecord;
  reason: string;
  since: number;
}

interface LinkMark {
  down: boolean;
  reason: string;
  changedAtMs: number;
}

/**
 * What this gateway knows about reaching each remote gateway, apart from single requests'
 * answers (gateway-state.ts has the meaning of each condition). Fed by:
 * - the tunnel client: `dead` when a session failed its keep-alive PING or the gateway could
 *   not be dialed (connect refused or timed out, TLS failure); `up` when a session answered its
 *   first PING — which, for a dead gateway, only the prober's fresh session does;
 * - the peer manager: the federation link to each cluster (`link-down` once it lost its
 *   heartbeats or could not be dialed).
 * `dead` wins over `link-down`: a gateway that does not answer is not tried even as a last
 * resort; one whose link is down still may be.
 */
export class GatewayLiveness implements GatewayStateReader {
  private readonly dead = new Map<string, DeadMark>();
  /** When each gateway last came back from dead (epoch ms), for the failback delay. */
  private readonly recovered = new Map<string, number>();
  private readonly links = new Map<string, LinkMark>();
  private readonly listeners = new Set<() => void>();
  private readonly now: () => number;
  private readonly logger: Logger;

  constructor(options: GatewayLivenessOptions = {}) {
    this.now = options.now ?? Date.now;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'liveness' });
  }

  stateOf(gateway: GatewayRecord): GatewayState {
    const key = gatewayKey(gateway);
    const dead = this.dead.get(key);
    if (dead !== undefined) return { condition: 'dead', reason: dead.reason, changedAtMs: dead.since };
    const link = this.links.get(gateway.cluster);
    if (link?.down === true) return { condition: 'link-down', reason: link.reason, changedAtMs: link.changedAtMs };
    const changedAtMs = Math.max(this.recovered.get(key) ?? 0, link?.changedAtMs ?? 0);
    return { condition: 'up', reason: changedAtMs === 0 ? 'no failure seen' : 'answering', changedAtMs };
  }

  /** A TunnelClient report (wire with `tunnels.onEvent((e) => liveness.observe(e))`). */
  observe(event: TunnelEvent): void {
    if (event.type === 'dead') this.markDead(event.gateway, event.reason);
    else this.markUp(event.gateway, 'a session answered PING');
  }

  markDead(gateway: GatewayRecord, reason: string): void {
    const key = gatewayKey(gateway);
    const held = this.dead.get(key);
    if (held !== undefined) {
      // Still dead: the newest reason says most (the prober's latest attempt).
      held.reason = reason;
      return;
    }
    this.dead.set(key, { gateway, reason, since: this.now() });
    this.logger.warn({ gateway: gateway.identity, address: gateway.eastWestAddress, reason }, 'remote gateway dead');
    this.changed();
  }

  markUp(gateway: GatewayRecord, why: string): void {
    const key = gatewayKey(gateway);
    if (!this.dead.delete(key)) return;
    this.recovered.set(key, this.now());
    this.logger.info({ gateway: gateway.identity, address: gateway.eastWestAddress, why }, 'remote gateway up again');
    this.changed();
  }

  /**
   * The federation link to `cluster`: `connected` false once it lost its heartbeats or could not
   * be dialed (wire with `peers.onLinkState(...)`).
   */
  setLink(cluster: string, connected: boolean, reason: string): void {
    const held = this.links.get(cluster);
    if (held !== undefined && held.down === !connected) return;
    // A link first seen connected is no change: nothing was ever down.
    if (held === undefined && connected) return;
    this.links.set(cluster, { down: !connected, reason, changedAtMs: this.now() });
    this.logger.info({ cluster, connected, reason }, connected ? 'federation link up again' : 'federation link down');
    this.changed();
  }

  /** Gateways known dead now, for the prober. */
  deadGateways(): GatewayRecord[] {
    return [...this.dead.values()].map((d) => d.gateway);
  }

  /** Drop what is known about a gateway (it left the catalog). */
  forget(gateway: Pick<GatewayRecord, 'identity' | 'eastWestAddress'>): void {
    const key = gatewayKey(gateway);
    this.recovered.delete(key);
    if (this.dead.delete(key)) this.changed();
  }

  forgetCluster(cluster: string): void {
    if (this.links.delete(cluster)) this.changed();
  }

  /** Called on every change of condition (the prober reschedules itself). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The state of each of `gateways` (status passes every remote gateway the catalog knows). */
  snapshot(gateways: readonly GatewayRecord[]): GatewayLivenessView[] {
    return gateways.map((g) => ({ gateway: g.identity, address: g.eastWestAddress, cluster: g.cluster, ...this.stateOf(g) }));
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
