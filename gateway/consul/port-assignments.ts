import { describeError, type Logger, type Store } from '../../registry/index.js';

/** What the data dir holds: `<service key>:<service port>` → forward port. */
interface Saved {
  version: 1;
  ports: Record<string, number>;
}

/**
 * The forward ports of published service ports, taken from a fixed range and kept in the data
 * dir, so that a service's address in Consul survives gateway restarts and never moves while
 * the service exists. A port is taken back only when the range has no free port left, and then
 * from a service port that is no longer published (the lowest such port first): a service that
 * goes away and comes back keeps its port as long as the range has room.
 */
export class PortAssignments {
  private readonly ports = new Map<string, number>();
  private dirty = false;

  constructor(
    private readonly store: Store,
    private readonly name: string,
    private readonly range: { first: number; last: number },
    private readonly logger: Logger,
  ) {}

  /** Reads the saved assignments; those outside the range (a changed config) or corrupt are dropped. */
  async load(): Promise<void> {
    let saved: Saved | undefined;
    try {
      saved = await this.store.load<Saved>(this.name);
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'saved forward port assignments unreadable; starting afresh');
    }
    const taken = new Set<number>();
    for (const [key, port] of Object.entries(saved?.ports ?? {})) {
      if (!Number.isInteger(port) || port < this.range.first || port > this.range.last || taken.has(port)) {
        this.dirty = true;
        continue;
      }
      taken.add(port);
      this.ports.set(key, port);
    }
  }

  get(key: string): number | undefined {
    return this.ports.get(key);
  }

  /** Every assignment, `key → port`. */
  entries(): ReadonlyMap<string, number> {
    return this.ports;
  }

  /**
   * Gives a port to every key of `wanted` that has none. Returns the keys left without one:
   * the range is full of wanted keys.
   */
  assign(wanted: readonly string[]): string[] {
    const missing = wanted.filter((key) => !this.ports.has(key));
    if (missing.length === 0) return [];
    const used = new Set(this.ports.values());
    const wantedSet = new Set(wanted);
    // Ports held by keys no longer published, lowest first: taken back only when nothing is free.
    const reclaimable = [...this.ports].filter(([key]) => !wantedSet.has(key)).sort((a, b) => a[1] - b[1]);
    let next = this.range.first;
    const left: string[] = [];
    for (const key of missing) {
      while (next <= this.range.last && used.has(next)) next += 1;
      let port: number | undefined;
      if (next <= this.range.last) port = next++;
      else {
        const reclaimed = reclaimable.shift();
        if (reclaimed !== undefined) {
          this.ports.delete(reclaimed[0]);
          port = reclaimed[1];
          this.logger.info({ from: reclaimed[0], to: key, port }, 'forward port range full; a port of a service no longer published is given to another');
        }
      }
      if (port === undefined) {
        left.push(key);
        continue;
      }
      used.add(port);
      this.ports.set(key, port);
      this.dirty = true;
    }
    return left;
  }

  /** Saves the assignments if they changed (before any is used, so a restart cannot hand a port to another service). */
  async save(): Promise<void> {
    if (!this.dirty) return;
    await this.store.save(this.name, { version: 1, ports: Object.fromEntries(this.ports) } satisfies Saved);
    this.dirty = false;
  }
}
