import { CausewayError, ErrorCodes, silentLogger, type Logger } from '../../registry/index.js';
import { bundlesEqual } from './bundle.js';
import type { TrustBundle, TrustReader } from './types.js';

/**
 * The bundles a gateway holds, one per trust domain and never merged: a root of one
 * domain must never vouch for an identity of another (verify-chain.ts relies on this).
 */
export class TrustStore implements TrustReader {
  private readonly bundles = new Map<string, TrustBundle>();
  private readonly listeners = new Set<() => void>();
  private readonly logger: Logger;

  constructor(options: { logger?: Logger } = {}) {
    this.logger = options.logger ?? silentLogger();
  }

  /** Adds or replaces a bundle. A lower sequence than the one held is refused (CW_BUNDLE_STALE). */
  set(bundle: TrustBundle): boolean {
    const held = this.bundles.get(bundle.trustDomain);
    if (held !== undefined) {
      if (bundle.sequence < held.sequence) {
        throw new CausewayError(ErrorCodes.BUNDLE_STALE,
          `bundle for ${bundle.trustDomain} has sequence ${bundle.sequence}, lower than the held ${held.sequence}`);
      }
      if (bundlesEqual(held, bundle)) return false;
    }
    this.bundles.set(bundle.trustDomain, Object.freeze({ ...bundle, rootsPem: Object.freeze([...bundle.rootsPem]) }));
    this.emit();
    return true;
  }

  remove(trustDomain: string): boolean {
    if (!this.bundles.delete(trustDomain)) return false;
    this.emit();
    return true;
  }

  get(trustDomain: string): TrustBundle | undefined {
    return this.bundles.get(trustDomain);
  }

  trustDomains(): string[] {
    return [...this.bundles.keys()];
  }

  allRootsPem(): string[] {
    return [...this.bundles.values()].flatMap((b) => b.rootsPem);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'trust store listener failed');
      }
    }
  }
}
