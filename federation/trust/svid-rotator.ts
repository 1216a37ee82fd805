import { describeError, silentLogger, type EventSink, type Logger } from '../../registry/index.js';
import type { CertificateAuthority } from './ca.js';
import type { TrustEvent } from './trust-events.js';
import type { Svid, SvidSource } from './types.js';

const MAX_TIMER_MS = 2_147_483_647;
const RETRY_MS = 30_000;

/**
 * Keeps a fresh SVID for one identity: issued at construction, renewed at half its
 * lifetime (unref'd timer). Listeners (TLS servers, dialers) swap to the new one for new
 * connections; live connections keep the certificate they were made with.
 */
export class SvidRotator implements SvidSource {
  private svid: Svid;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(svid: Svid) => void>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: {
    ca: CertificateAuthority; spiffeId: string; ttlSeconds: number; logger?: Logger; now?: () => number;
    /** Telemetry: each renewal, and each renewal the CA could not serve (trust-events.ts). */
    events?: EventSink<TrustEvent>;
  }) {
    this.logger = (options.logger ?? silentLogger()).child({ component: 'svid' });
    this.now = options.now ?? Date.now;
    this.svid = options.ca.issueKeyAndSvid(options.spiffeId, options.ttlSeconds);
  }

  current(): Svid {
    return this.svid;
  }

  start(): void {
    this.schedule();
  }

  onRotate(listener: (svid: Svid) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  rotateNow(): Svid {
    this.svid = this.options.ca.issueKeyAndSvid(this.options.spiffeId, this.options.ttlSeconds);
    this.logger.info({ spiffeId: this.svid.spiffeId, notAfter: this.svid.notAfter.toISOString() }, 'SVID rotated');
    this.options.events?.publish({ type: 'svid.rotated', spiffeId: this.svid.spiffeId, notAfter: this.svid.notAfter.toISOString() });
    for (const listener of this.listeners) {
      try {
        listener(this.svid);
      } catch (err) {
        this.logger.error({ err: describeError(err) }, 'SVID rotation listener failed');
      }
    }
    this.schedule();
    return this.svid;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    const { notBefore, notAfter } = this.svid;
    const halfLife = notBefore.getTime() + (notAfter.getTime() - notBefore.getTime()) / 2;
    const wait = Math.max(1000, halfLife - this.now());
    // Node fires a timer longer than 2^31-1 ms after 1 ms; a long-lived SVID waits in steps.
    if (wait > MAX_TIMER_MS) {
      this.timer = setTimeout(() => this.schedule(), MAX_TIMER_MS);
    } else {
      this.timer = setTimeout(() => this.rotateOrRetry(), wait);
    }
    this.timer.unref();
  }

  /** A renewal the CA cannot serve (its authority expired, say) is logged and retried; the current SVID stays. */
  private rotateOrRetry(): void {
    try {
      this.rotateNow();
    } catch (err) {
      this.logger.error({ spiffeId: this.svid.spiffeId, reason: describeError(err), notAfter: this.svid.notAfter.toISOString() },
        `cannot renew the SVID; retrying in ${RETRY_MS / 1000} s`);
      this.options.events?.publish({ type: 'svid.renewal-failed', spiffeId: this.svid.spiffeId, reason: describeError(err) });
      clearTimeout(this.timer);
      if (this.closed) return;
      this.timer = setTimeout(() => this.rotateOrRetry(), RETRY_MS);
      this.timer.unref();
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }
}
