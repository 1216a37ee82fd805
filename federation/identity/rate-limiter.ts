import { CausewayError, ErrorCodes } from '../../registry/index.js';

export interface RateLimit {
  /** Sustained requests per second per client. */
  perSecond: number;
  /** Requests a client may make at once before the sustained rate applies. */
  burst: number;
}

/** CW_RATE_LIMITED, with the seconds to wait (an HTTP server's Retry-After). */
export class RateLimitedError extends CausewayError {
  constructor(key: string, readonly retryAfterSeconds: number) {
    super(ErrorCodes.RATE_LIMITED, `too many issuance requests from ${key}; retry in ${retryAfterSeconds} s`, {
      details: [`retryAfterSeconds=${retryAfterSeconds}`],
    });
  }
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per client key (the caller's address). Memory is bounded: at most
 * `maxClients` buckets are kept, the least recently used dropped first (a dropped client
 * simply starts again with a full bucket).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;
  private readonly maxClients: number;

  constructor(private readonly limit: RateLimit, options: { now?: () => number; maxClients?: number } = {}) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new CausewayError(ErrorCodes.USAGE, 'rate limit: perSecond must be > 0 and burst >= 1');
    this.now = options.now ?? Date.now;
    this.maxClients = options.maxClients ?? 10_000;
  }

  /** Takes one request's token for `key`, or throws CW_RATE_LIMITED with the seconds to wait. */
  take(key: string): void {
    const now = this.now();
    const held = this.buckets.get(key);
    const tokens = held === undefined ? this.limit.burst : Math.min(this.limit.burst, held.tokens + ((now - held.at) / 1000) * this.limit.perSecond);
    this.buckets.delete(key);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - tokens) / this.limit.perSecond));
      throw new RateLimitedError(key, retryAfterSeconds);
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.buckets.size > this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
  }
}
