/**
 * How many RST_STREAM frames (RFC 9113 §6.4) one client session may send, as a token bucket.
 *
 * A server guards itself against "rapid reset" (CVE-2023-44487) by counting the resets its
 * clients send: nghttp2 — and so Node's http2 server, our east-west listener — allows a burst
 * of 1000 and 33 more per second per session, then answers GOAWAY(INTERNAL_ERROR), which
 * ends every stream of the session, healthy ones too. A gateway cancelling streams for good
 * reasons (callers that left, answers that came too late) must stay inside that budget, or it
 * cuts its own traffic to a healthy peer. Ours is half of it, so the server's count (whole
 * seconds) never catches up with ours.
 */
export const RESET_BURST = 500;
export const RESETS_PER_SECOND = 25;
/** Below this many tokens, new streams go to a fresh session (each session has its own budget at the server). */
export const RESET_LOW_WATER = 50;

export class ResetBudget {
  private tokens: number;
  private last: number;

  constructor(
    private readonly now: () => number,
    private readonly burst = RESET_BURST,
    private readonly perSecond = RESETS_PER_SECOND,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token when there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Tokens left now (fractions count as none). */
  left(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Milliseconds until the next whole token. */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.perSecond);
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
  }
}
