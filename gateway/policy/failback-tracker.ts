/**
 * Hysteresis for failback, per (service, cluster, subset): a cluster that was seen unfit to
 * serve — no healthy endpoint, below minHealthy, or no usable gateway — gets its traffic back
 * only once it has stayed fit for the failback delay, so a cluster that flaps does not pull
 * traffic back and forth. The delay runs from the first look that sees it fit again, and
 * restarts whenever it is seen unfit. The decisions feed it every time they look, and the
 * engine also makes them look whenever the catalog changes, so a recovery is timed from when
 * it happened, not from the next request.
 */
export class FailbackTracker {
  private readonly marks = new Map<string, { downAt: number; fitSince: number | undefined }>();

  markDown(key: string, now: number): void {
    this.marks.set(key, { downAt: now, fitSince: undefined });
  }

  /** Epoch ms of the last time `key` was seen unfit, while it still waits to fail back. */
  downAt(key: string): number | undefined {
    return this.marks.get(key)?.downAt;
  }

  /**
   * `key` is seen fit at `now`. Returns since when it has been fit while that is less than
   * `delayMs` ago (it still waits to fail back); otherwise forgets it and returns undefined.
   * (Timing the delay from the last time it was seen unfit would fail back at once after an
   * outage longer than the delay that nobody looked at in between.)
   */
  seenFit(key: string, now: number, delayMs: number): number | undefined {
    const mark = this.marks.get(key);
    if (mark === undefined) return undefined;
    mark.fitSince ??= now;
    if (now - mark.fitSince < delayMs) return mark.fitSince;
    this.marks.delete(key);
    return undefined;
  }

  get size(): number {
    return this.marks.size;
  }
}
