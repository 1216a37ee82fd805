/**
 * Lets through at most `limit` log lines per `windowMs` for one kind of event, and reports
 * how many it held back when the next window opens. A port scan or a misconfigured client
 * then costs a few lines, not one per connection.
 */
export class LogThrottle {
  private windowStart = 0;
  private count = 0;
  private suppressed = 0;

  constructor(private readonly limit = 20, private readonly windowMs = 10_000, private readonly now: () => number = Date.now) {}

  /** Whether to log this event; `onSuppressed` is told how many were held back in the window that just ended. */
  allow(onSuppressed: (count: number) => void): boolean {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) onSuppressed(this.suppressed);
      this.windowStart = now;
      this.count = 0;
      this.suppressed = 0;
    }
    if (this.count < this.limit) {
      this.count++;
      return true;
    }
    this.suppressed++;
    return false;
  }
}
