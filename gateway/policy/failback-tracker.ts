/**
 * When each (service, cluster, subset) was last seen unfit to serve — no healthy endpoint,
 * below minHealthy, or no usable gateway. A cluster traffic failed away from gets it back only
 * once it has stayed fit for the failback delay (hysteresis: a cluster that flaps does not pull
 * traffic back and forth). The decisions feed it every time they look, and the gateway also
 * makes them look whenever the catalog changes, so a recovery is timed from when it happened,
 * not from the next request.
 */
export class FailbackTracker {
  private readonly lastDown = new Map<string, number>();

  markDown(key: string, now: number): void {
    this.lastDown.set(key, now);
  }

  /** Epoch ms of the last time `key` was seen unfit, if it has been since it last recovered. */
  downAt(key: string): number | undefined {
    return this.lastDown.get(key);
  }

  /** `key` has stayed fit past its failback delay: forget it. */
  recovered(key: string): void {
    this.lastDown.delete(key);
  }

  get size(): number {
    return this.lastDown.size;
  }
}
