/**
 * Idleness on a coarse clock. A byte pump that arms or refreshes a timer per chunk pays for
 * it on every read; instead each watched thing sets `active = true` when bytes move (a field
 * write), and one unref'd interval per sweeper finds the ones that stayed quiet for their
 * whole timeout. The verdict is late by at most one interval, which is fine for timeouts of
 * seconds to minutes.
 */
export interface IdleWatch {
  /** Set by the owner whenever bytes move. */
  active: boolean;
  /** Stop watching (idempotent). */
  stop(): void;
}

interface Entry extends IdleWatch {
  quietSince: number;
  timeoutMs: number;
  onIdle: () => void;
}

export class IdleSweeper {
  private readonly entries = new Set<Entry>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly intervalMs = 1000, private readonly now: () => number = Date.now) {
    this.timer = setInterval(() => this.sweep(), intervalMs);
    this.timer.unref();
  }

  /** Calls `onIdle` once after `timeoutMs` without activity, then stops watching. 0 = never. */
  watch(timeoutMs: number, onIdle: () => void): IdleWatch {
    const entries = this.entries;
    const entry: Entry = {
      active: false, quietSince: this.now(), timeoutMs, onIdle,
      stop() { entries.delete(entry); },
    };
    if (timeoutMs > 0) entries.add(entry);
    return entry;
  }

  /** @internal exposed for tests with an injected clock. */
  sweep(): void {
    const now = this.now();
    for (const entry of this.entries) {
      if (entry.active) {
        entry.active = false;
        entry.quietSince = now;
      } else if (now - entry.quietSince >= entry.timeoutMs) {
        this.entries.delete(entry);
        entry.onIdle();
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.entries.clear();
  }
}
