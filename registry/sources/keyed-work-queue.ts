/** What a KeyedWorkQueue runs, and how it backs off. */
export interface KeyedWorkQueueOptions<K> {
  /** Runs of `run` at once. */
  concurrency: number;
  /** Does the work for one key; a rejection counts as a failure (the key is run again after a pause). */
  run: (key: K) => Promise<void>;
  /** Told of every failure before the pause. */
  onFailure?: (key: K, err: unknown, retryInMs: number) => void;
  /** First pause after a failure; it doubles per consecutive failure up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Work per key (a Consul service to read, say) with bounded concurrency, where asking again for a
 * key that is already waiting costs nothing and asking for one that is running runs it once more
 * after — so any number of requests for the same key collapse into at most one run in flight and
 * one queued. Urgent keys (a change seen for them) go before ordinary ones (a sweep over every
 * key), so one change does not wait behind a whole sweep. A failure pauses the whole queue, not
 * just the key: when the server is down or refusing, every key would fail the same way.
 */
export class KeyedWorkQueue<K> {
  private readonly urgent = new Set<K>();
  private readonly ordinary = new Set<K>();
  private readonly running = new Set<K>();
  /** Keys asked for while they ran, with whether that ask was urgent. */
  private readonly again = new Map<K, boolean>();
  private failures = 0;
  private pause: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: KeyedWorkQueueOptions<K>) {
    if (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be a whole number >= 1, got ${options.concurrency}`);
  }

  /** Runs `key` (again) once a slot is free; `urgent` puts it before every ordinary key. */
  request(key: K, urgent: boolean): void {
    if (this.closed) return;
    if (this.running.has(key)) {
      this.again.set(key, urgent || this.again.get(key) === true);
      return;
    }
    if (urgent) {
      this.ordinary.delete(key);
      this.urgent.add(key);
    } else if (!this.urgent.has(key)) {
      this.ordinary.add(key);
    }
    this.pump();
  }

  /** Forgets a key that is waiting (a run in progress finishes; its caller ignores the result). */
  cancel(key: K): void {
    this.urgent.delete(key);
    this.ordinary.delete(key);
    this.again.delete(key);
  }

  /** Keys waiting or running. */
  get size(): number {
    return this.urgent.size + this.ordinary.size + this.running.size;
  }

  /** Stops starting work (runs in progress finish) and drops what is waiting. */
  close(): void {
    this.closed = true;
    clearTimeout(this.pause);
    this.urgent.clear();
    this.ordinary.clear();
    this.again.clear();
  }

  private pump(): void {
    while (!this.closed && this.pause === undefined && this.running.size < this.options.concurrency) {
      const key = first(this.urgent) ?? first(this.ordinary);
      if (key === undefined) return;
      this.urgent.delete(key.value);
      this.ordinary.delete(key.value);
      this.running.add(key.value);
      void this.runOne(key.value);
    }
  }

  private async runOne(key: K): Promise<void> {
    let failed = false;
    try {
      await this.options.run(key);
      this.failures = 0;
    } catch (err) {
      failed = true;
      if (!this.closed) this.failed(key, err);
    } finally {
      this.running.delete(key);
      const urgent = this.again.get(key);
      this.again.delete(key);
      if (failed) this.request(key, true);
      else if (urgent !== undefined) this.request(key, urgent);
      this.pump();
    }
  }

  private failed(key: K, err: unknown): void {
    // Runs that were in flight together fail together: they share one pause and count once.
    if (this.pause === undefined) this.failures += 1;
    const base = this.options.baseBackoffMs ?? 100;
    const delay = Math.min(this.options.maxBackoffMs ?? 30_000, base * 2 ** Math.min(this.failures - 1, 20));
    this.options.onFailure?.(key, err, delay);
    if (this.pause !== undefined) return;
    this.pause = setTimeout(() => {
      this.pause = undefined;
      this.pump();
    }, delay);
    this.pause.unref();
  }
}

/** The first element of a set, boxed so that any value (undefined included) can be a key. */
function first<K>(set: Set<K>): { value: K } | undefined {
  for (const value of set) return { value };
  return undefined;
}
