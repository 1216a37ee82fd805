import type { PolicySet } from './policy-set.js';
import { callerOf, sourceMatches, type Caller } from './source-pattern.js';

const CACHE_LIMIT = 4096;

/**
 * Turns a verified identity into the Caller the decisions take, with its traffic classes.
 * Classes depend only on the identity and the set, so they are cached per set: the data plane
 * asks once per request and callers are few. (Class sources never name classes — the set
 * compiler refuses that — so one pass decides membership.)
 */
export class CallerClassifier {
  private cacheSet: PolicySet | undefined;
  private readonly cache = new Map<string, Caller>();

  caller(set: PolicySet, spiffeId: string | undefined, viaTrustDomain?: string): Caller {
    if (this.cacheSet !== set) {
      this.cache.clear();
      this.cacheSet = set;
    }
    const key = `${spiffeId ?? ''} ${viaTrustDomain ?? ''}`;
    const held = this.cache.get(key);
    if (held !== undefined) return held;
    const base = callerOf(spiffeId, viaTrustDomain);
    const classes = new Set<string>();
    const probe: Caller = { ...base, classes: new Set() };
    for (const trafficClass of set.classes.values()) {
      if (trafficClass.from.some((source) => sourceMatches(source, probe))) classes.add(trafficClass.name);
    }
    const caller: Caller = { ...base, classes };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, caller);
    return caller;
  }
}
