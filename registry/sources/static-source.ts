import type { Source, SourceSink } from '../catalog-types.js';
import { deepFreeze } from '../immutable.js';
import type { ServiceDeclaration } from '../model.js';

/**
 * The services written in the gateway's config file. Declarations are validated by the
 * config loader (validateDeclaration); this source only pushes them, whole, into the sink.
 */
export class StaticSource implements Source {
  readonly kind = 'static';
  private declarations: readonly ServiceDeclaration[];
  private sink: SourceSink | undefined;
  private closed = false;

  constructor(readonly name: string, declarations: readonly ServiceDeclaration[]) {
    this.declarations = copy(declarations);
  }

  /** Pushes the declarations; the first full sync is done when this resolves. */
  async start(sink: SourceSink): Promise<void> {
    if (this.closed) return;
    this.sink = sink;
    sink.replaceSource(this.name, this.declarations);
  }

  /**
   * Replaces the declarations (config reload). Before start() they are kept for it; after
   * close() the call is ignored: a reload racing shutdown must not write anything.
   * Throws what the sink throws (e.g. CW_CATALOG_INVALID), keeping the previous declarations.
   */
  update(declarations: readonly ServiceDeclaration[]): void {
    if (this.closed) return;
    const next = copy(declarations);
    this.sink?.replaceSource(this.name, next);
    this.declarations = next;
  }

  /**
   * Stops pushing. The declarations stay in the registry: a gateway shutting down still
   * serves them, and tombstoning them here would persist their removal. Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.sink = undefined;
  }
}

/** Our own frozen copy: a caller mutating its array later cannot change what we declared. */
function copy(declarations: readonly ServiceDeclaration[]): readonly ServiceDeclaration[] {
  return deepFreeze(structuredClone([...declarations]));
}
