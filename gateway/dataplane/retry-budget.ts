import type { CompiledRetries } from '../policy/policy-set.js';

interface Window {
  /** Start of the current one-second window, epoch ms. */
  start: number;
  requests: number;
  retries: number;
  previousRequests: number;
  previousRetries: number;
}

const WINDOW_MS = 1000;
const MAX_SERVICES = 10_000;

/**
 * Retry budgets per service, as Envoy's retry_budget and Linkerd's: retries may add at most
 * `budgetPercent` of the requests of the last second (plus `minRetriesPerSecond` always), so
 * when a whole cluster fails, retries cannot multiply the load on the ones left — the failure
 * that turns an outage into a retry storm. Two one-second buckets give a sliding estimate
 * without a timer.
 */
export class RetryBudget {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly now: () => number = Date.now) {}

  /** One request (its first try) to `service`. */
  noteRequest(service: string): void {
    this.windowOf(service).requests += 1;
  }

  /** Takes one retry from the budget when there is one left. */
  tryRetry(service: string, retries: CompiledRetries): boolean {
    const window = this.windowOf(service);
    const elapsed = (this.now() - window.start) / WINDOW_MS;
    // Weight the previous second by how much of it the sliding window still covers.
    const carry = Math.max(0, 1 - elapsed);
    const requests = window.requests + window.previousRequests * carry;
    const used = window.retries + window.previousRetries * carry;
    const allowed = Math.max(retries.minRetriesPerSecond, (requests * retries.budgetPercent) / 100);
    if (used + 1 > allowed) return false;
    window.retries += 1;
    return true;
  }

  private windowOf(service: string): Window {
    const now = this.now();
    let window = this.windows.get(service);
    if (window === undefined) {
      if (this.windows.size >= MAX_SERVICES) this.windows.clear();
      window = { start: now, requests: 0, retries: 0, previousRequests: 0, previousRetries: 0 };
      this.windows.set(service, window);
    } else if (now - window.start >= WINDOW_MS) {
      const skipped = now - window.start >= 2 * WINDOW_MS;
      window.previousRequests = skipped ? 0 : window.requests;
      window.previousRetries = skipped ? 0 : window.retries;
      window.requests = 0;
      window.retries = 0;
      window.start = now - ((now - window.start) % WINDOW_MS);
    }
    return window;
  }
}
