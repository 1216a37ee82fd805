import { CausewayError, ErrorCodes, describeError, silentLogger, type ErrorCode, type Logger } from '../../registry/index.js';
import type { BootstrapCredential } from './bootstrap-credential.js';
import { backoffDelay, type BackoffOptions } from './link-dialer.js';
import type { PeerStatus } from './peer-status.js';

/** One peering the config asks this gateway to make with a bootstrap credential. */
export interface BootstrapPeeringSpec {
  /** The dialled cluster (the credential's `to`): the peer's name here. */
  name: string;
  /** Its federation address, IP:port. */
  address: string;
  credential: BootstrapCredential;
}

/**
 * `pending`: not peered yet, retrying (lastError says why the last attempt failed);
 * `done`: peered (now or before); `failed`: given up for good — the credential was used,
 * expired, altered or is not for this pair — and `lastError` says which.
 */
export type BootstrapPeeringState = 'pending' | 'done' | 'failed';

/** One entry as GET /v1/status (`bootstrap.peerings`) and `causeway status` show it. */
export interface BootstrapPeeringStatus {
  name: string;
  address: string;
  /** The credential's public id (never its secret). */
  credentialId: string;
  expiresAt: string;
  state: BootstrapPeeringState;
  attempts: number;
  lastError?: string;
  lastErrorCode?: ErrorCode;
  lastAttemptAt?: string;
  nextAttemptAt?: string;
  doneAt?: string;
}

/** What the runner needs of the peer manager. */
export interface BootstrapTarget {
  addBootstrapPeer(credential: BootstrapCredential, address: string): Promise<PeerStatus>;
  list(): PeerStatus[];
}

export interface BootstrapPeeringsOptions {
  peers: BootstrapTarget;
  logger?: Logger;
  /** ms since the epoch. */
  now?: () => number;
  /** Between attempts (default 500 ms doubling to 30 s, with jitter). */
  backoff?: BackoffOptions;
  random?: () => number;
}

/** Verdicts no retry can change: the credential itself is spent or wrong. */
const FINAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.TOKEN_USED, ErrorCodes.TOKEN_EXPIRED, ErrorCodes.TOKEN_TAMPERED, ErrorCodes.TOKEN_WRONG_PEER,
  ErrorCodes.TOKEN_MALFORMED, ErrorCodes.PEER_EXISTS, ErrorCodes.USAGE,
]);

interface Entry {
  spec: BootstrapPeeringSpec;
  status: BootstrapPeeringStatus;
  timer?: NodeJS.Timeout;
  inFlight?: Promise<void>;
  /** Dropped by update() or close(): nothing it learns afterwards is recorded. */
  cancelled: boolean;
}

/**
 * Makes the peerings of `peering.peers` in the background: each one is redeemed with
 * capped, jittered backoff — the dialled gateway may still be booting, created in the same
 * `terraform apply` — until it succeeds, fails for good, or its credential expires. Never
 * in the way of the gateway's start: start() only schedules. A peer already known by that
 * name is `done` at once, so a restart does not spend anything again.
 */
export class BootstrapPeerings {
  private readonly peers: BootstrapTarget;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly backoff: BackoffOptions;
  private readonly random: () => number;
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(options: BootstrapPeeringsOptions) {
    this.peers = options.peers;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'bootstrap-peering' });
    this.now = options.now ?? Date.now;
    this.backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    this.random = options.random ?? Math.random;
  }

  /**
   * Follows the config's list (at start, and on every reload): new entries start, entries
   * gone are dropped (a pending one stops retrying), and an entry whose credential or address
   * changed starts over unless it is done.
   */
  update(specs: readonly BootstrapPeeringSpec[]): void {
    if (this.closed) throw new CausewayError(ErrorCodes.CLOSED, 'bootstrap peerings are closed');
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, entry] of this.entries) {
      const next = wanted.get(name);
      const same = next !== undefined && next.address === entry.spec.address && next.credential.id === entry.spec.credential.id;
      if (same || (next !== undefined && entry.status.state === 'done')) continue;
      this.cancel(entry);
      this.entries.delete(name);
    }
    for (const spec of specs) {
      if (this.entries.has(spec.name)) continue;
      const entry: Entry = {
        spec,
        cancelled: false,
        status: {
          name: spec.name, address: spec.address, credentialId: spec.credential.id,
          expiresAt: new Date(spec.credential.exp * 1000).toISOString(), state: 'pending', attempts: 0,
        },
      };
      this.entries.set(spec.name, entry);
      this.attempt(entry);
    }
  }

  status(): BootstrapPeeringStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Stops retrying; waits for an attempt in flight so that a redemption that went through is recorded. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const inFlight = [...this.entries.values()].map((e) => {
      clearTimeout(e.timer);
      return e.inFlight;
    });
    await Promise.all(inFlight);
    for (const entry of this.entries.values()) this.cancel(entry);
  }

  private cancel(entry: Entry): void {
    entry.cancelled = true;
    clearTimeout(entry.timer);
    delete entry.status.nextAttemptAt;
  }

  private peered(name: string): boolean {
    return this.peers.list().some((p) => p.name === name && p.state !== 'removed');
  }

  private attempt(entry: Entry): void {
    entry.timer = undefined;
    if (entry.cancelled || this.closed) return;
    const { status, spec } = entry;
    delete status.nextAttemptAt;
    if (this.peered(spec.name)) {
      this.finish(entry, 'done');
      this.logger.info({ peer: spec.name }, 'already peered; the bootstrap credential is not used');
      return;
    }
    const now = this.now();
    if (Math.floor(now / 1000) >= spec.credential.exp) {
      this.fail(entry, new CausewayError(ErrorCodes.TOKEN_EXPIRED, `the bootstrap credential for ${spec.name} expired at ${status.expiresAt} before a redemption succeeded`));
      return;
    }
    status.attempts += 1;
    status.lastAttemptAt = new Date(now).toISOString();
    entry.inFlight = this.peers.addBootstrapPeer(spec.credential, spec.address).then(
      () => {
        if (entry.cancelled) return;
        this.finish(entry, 'done');
        this.logger.info({ peer: spec.name, attempts: status.attempts }, 'peered with a bootstrap credential');
      },
      (err: unknown) => {
        if (entry.cancelled) return;
        const error = err instanceof CausewayError ? err : new CausewayError(ErrorCodes.INTERNAL, describeError(err), { cause: err });
        // Someone peered it meanwhile (an operator's `peer add`): that is what was wanted.
        if (error.code === ErrorCodes.PEER_EXISTS && this.peered(spec.name)) this.finish(entry, 'done');
        else if (FINAL.has(error.code)) this.fail(entry, error);
        else this.retry(entry, error);
      },
    ).finally(() => {
      entry.inFlight = undefined;
    });
  }

  private retry(entry: Entry, error: CausewayError): void {
    const { status, spec } = entry;
    const repeated = status.lastError === error.message;
    status.lastError = error.message;
    status.lastErrorCode = error.code;
    // Past the credential's expiry no attempt can succeed: the last one is at expiry, to say so.
    const untilExpiry = spec.credential.exp * 1000 - this.now();
    const delay = Math.max(0, Math.min(backoffDelay(status.attempts - 1, this.backoff, this.random), untilExpiry));
    status.nextAttemptAt = new Date(this.now() + delay).toISOString();
    const fields = { peer: spec.name, address: spec.address, attempts: status.attempts, code: error.code, reason: error.message, retryInMs: delay };
    if (repeated) this.logger.debug(fields, 'bootstrap peering attempt failed; retrying');
    else this.logger.warn(fields, 'bootstrap peering attempt failed; retrying');
    if (this.closed) return;
    entry.timer = setTimeout(() => this.attempt(entry), delay);
    entry.timer.unref();
  }

  private fail(entry: Entry, error: CausewayError): void {
    entry.status.lastError = error.message;
    entry.status.lastErrorCode = error.code;
    this.finish(entry, 'failed');
    this.logger.error({ peer: entry.spec.name, code: error.code, reason: error.message }, 'bootstrap peering failed for good');
  }

  private finish(entry: Entry, state: 'done' | 'failed'): void {
    entry.status.state = state;
    if (state === 'done') {
      entry.status.doneAt = new Date(this.now()).toISOString();
      delete entry.status.lastError;
      delete entry.status.lastErrorCode;
    }
  }
}
