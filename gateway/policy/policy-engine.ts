import { serviceKey, type CatalogReader, type GatewayRecord, type Locality, type ServiceKey } from '../../registry/index.js';
import { ALWAYS_UP, type GatewayState, type GatewayStateReader } from '../dataplane/gateway-state.js';
import { CallerClassifier } from './classify.js';
import { decideAccess, type AccessScope, type AccessVerdict } from './decide-access.js';
import { RouteDecider, type OutlierView, type RandomSource, type RouteDecision } from './decide-route.js';
import { FailbackTracker } from './failback-tracker.js';
import type { PolicySet, PolicySource } from './policy-set.js';
import type { Caller } from './source-pattern.js';

export interface PolicyEngineOptions {
  catalog: CatalogReader;
  policies: PolicySource;
  /**
   * This gateway's trust domain: the default allows its callers. Undefined: this engine does
   * not judge access (a listener embedded without an identity, in tests) — every caller may use
   * the local endpoints, and remote gateways still judge for themselves.
   */
  localTrustDomain: string | undefined;
  /** This gateway's locality: remote clusters are ranked against it. */
  locality: Locality;
  gateways?: GatewayStateReader;
  outliers?: OutlierView;
  now?: () => number;
  random?: RandomSource;
}

const NO_OUTLIERS: OutlierView = { ejection: () => undefined };

/**
 * The decisions of one gateway in one place — who may call, and where a request goes — over
 * one snapshot of what it knows. The data plane (both listeners), `explain` and, later, xDS all
 * call these methods and nothing else, so what explain says is what a request gets.
 */
export class PolicyEngine {
  private readonly classifier = new CallerClassifier();
  private readonly decider: RouteDecider;
  readonly failback = new FailbackTracker();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(private readonly options: PolicyEngineOptions) {
    this.decider = new RouteDecider({
      catalog: options.catalog, locality: options.locality,
      gateways: options.gateways ?? ALWAYS_UP, outliers: options.outliers ?? NO_OUTLIERS,
      failback: this.failback, now: options.now ?? Date.now, random: options.random ?? Math.random,
    });
    // A recovery is timed from when the catalog said so, not from the next request (failback).
    this.unsubscribe.push(options.catalog.onChange((changes) => {
      for (const change of changes) this.observe(serviceKey(change.record.name, change.record.namespace));
    }));
  }

  /**
   * What is known about reaching `gateway` now. A request planned before its gateway died (or
   * one queued for a pooled connection to it) asks again before dialing.
   */
  gatewayState(gateway: GatewayRecord): GatewayState {
    return (this.options.gateways ?? ALWAYS_UP).stateOf(gateway);
  }

  get catalog(): CatalogReader {
    return this.options.catalog;
  }

  get localTrustDomain(): string | undefined {
    return this.options.localTrustDomain;
  }

  /** The policy set in force now. */
  policies(): PolicySet {
    return this.options.policies.current();
  }

  /** The caller of a request: a verified SPIFFE ID, or anonymous through a gateway of `viaTrustDomain`. */
  caller(spiffeId: string | undefined, viaTrustDomain: string | undefined = this.options.localTrustDomain): Caller {
    return this.classifier.caller(this.policies(), spiffeId, viaTrustDomain);
  }

  access(caller: Caller, service: ServiceKey, scope: AccessScope, set: PolicySet = this.policies()): AccessVerdict {
    const { localTrustDomain } = this.options;
    if (localTrustDomain === undefined) return { allowed: true, rule: undefined, reason: 'access is not judged by this listener' };
    return decideAccess(set, { caller, service, scope }, localTrustDomain);
  }

  /**
   * Where a request from `caller` to `service:port` goes, in order. This gateway's own endpoints
   * obey its access verdict for `scope`; remote ones are judged by their own gateway.
   * Throws CW_SERVICE_UNKNOWN; an empty candidate list comes with `refusal`.
   */
  route(caller: Caller, service: ServiceKey, port: number, scope: AccessScope, options: { explain?: boolean } = {}): RouteDecision {
    const set = this.policies();
    const localAccess = this.access(caller, service, scope, set);
    return this.decider.decide(set, {
      caller, service, port, localAccess, explain: options.explain === true,
      // A TrafficSplit to another service: its local endpoints obey that service's rules.
      localAccessTo: (other) => this.access(caller, other, scope, set),
    });
  }

  /** Looks at every port of `service` so the failback clock sees changes with no traffic. */
  observe(service: ServiceKey): void {
    const resolved = this.options.catalog.resolve(service);
    if (resolved === undefined) return;
    const set = this.policies();
    const caller = this.caller(undefined);
    for (const port of resolved.ports) {
      try {
        this.decider.decide(set, { caller, service, port: port.port, localAccess: undefined });
      } catch {
        // A port that no longer resolves has nothing to observe.
      }
    }
  }

  close(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }
}
