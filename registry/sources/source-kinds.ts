import { CausewayError, ErrorCodes } from '../errors.js';
import type { Source } from '../catalog-types.js';

/** Builds a source of one kind from its config section (already validated by the config loader). */
export type SourceFactory = (name: string, settings: unknown) => Source;

/**
 * Source kinds by name, so that a config lists sources by kind and each kind brings its own
 * factory (agents, Consul and Kubernetes register theirs; nothing here knows them).
 */
export class SourceKinds {
  private readonly factories = new Map<string, SourceFactory>();

  register(kind: string, factory: SourceFactory): void {
    if (this.factories.has(kind)) throw new Error(`source kind ${kind} is registered twice`);
    this.factories.set(kind, factory);
  }

  kinds(): string[] {
    return [...this.factories.keys()].sort();
  }

  /** A source of `kind`; CW_CONFIG_INVALID naming the known kinds when there is no such kind. */
  create(kind: string, name: string, settings: unknown): Source {
    const factory = this.factories.get(kind);
    if (factory === undefined) {
      throw new CausewayError(ErrorCodes.CONFIG_INVALID, `sources: unknown kind "${kind.slice(0, 100)}" (known: ${this.kinds().join(', ') || 'none'})`);
    }
    return factory(name, settings);
  }
}
