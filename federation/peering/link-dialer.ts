import { CausewayError, ErrorCodes, describeError, type Logger } from '../../registry/index.js';
import type { SvidSource, TrustReader } from '../trust/index.js';
import { grpcTarget } from './address.js';
import { peerChannelOptions, peerCredentials } from './credentials.js';
import type { LinkSession, LinkStream } from './link-session.js';
import type { PeerRecord } from './peer-store.js';
import { federationProto, type FederationClient } from './proto.js';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

/**
 * Capped exponential backoff with "equal jitter": half of the step is fixed, half random, so
 * the delay keeps growing while a fleet of dialers that lost the same peer spreads out.
 */
export function backoffDelay(attempt: number, backoff: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface SessionHooks {
  terminate(error: CausewayError | undefined): void;
  onConnected(): void;
  onEnd(error: CausewayError | undefined): void;
}

export interface LinkDialerOptions {
  /** The peer's current record; undefined once it was removed (the dialer then stops). */
  peer: () => PeerRecord | undefined;
  svid: SvidSource;
  trust: TrustReader;
  backoff: BackoffOptions;
  /** Largest Link message either way (the listener's `maxMessageBytes`). */
  maxMessageBytes: number;
  random?: () => number;
  logger: Logger;
  /** Creates and starts the session for a fresh Link call. */
  startSession(stream: LinkStream, peerIdentity: () => string | undefined, hooks: SessionHooks): LinkSession;
  onState(state: 'connected' | 'disconnected', error?: string): void;
}

/** After a graceful end(), how long the peer gets to close its side before we cancel. */
const END_GRACE_MS = 1000;

/**
 * The dialling side of one peering: opens the Link over mTLS (our SVID as client
 * certificate, the peer's bundle as the only roots), and reopens it with capped exponential
 * backoff after any failure; the backoff resets once a link came up (peer Hello accepted).
 * Every attempt uses a new channel so it picks up the current SVID and bundle.
 */
export class LinkDialer {
  private readonly options: LinkDialerOptions;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private session: LinkSession | undefined;
  private closed = false;

  constructor(options: LinkDialerOptions) {
    this.options = options;
  }

  start(): void {
    this.dial();
  }

  /** Ends the live session (gracefully, or with `error`) and stops redialling. Idempotent. */
  close(error?: CausewayError): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.session?.close(error);
  }

  private dial(): void {
    this.timer = undefined;
    const peer = this.options.peer();
    if (this.closed || peer === undefined) return;
    if (peer.federationAddress === undefined) {
      this.fail(new CausewayError(ErrorCodes.PEER_UNREACHABLE, `peer ${peer.name} has no federation address to dial`));
      return;
    }
    let serverIdentity: string | undefined;
    let client: FederationClient;
    try {
      const credentials = peerCredentials({
        svid: this.options.svid.current(), trust: this.options.trust, expectTrustDomain: peer.trustDomain, presentCertificate: true,
        onServerIdentity: (id) => { serverIdentity = id; },
      });
      client = new (federationProto().Client)(grpcTarget(peer.federationAddress), credentials, peerChannelOptions(peer.trustDomain, this.options.maxMessageBytes));
    } catch (err) {
      this.fail(err instanceof CausewayError ? err : new CausewayError(ErrorCodes.PEER_UNREACHABLE, describeError(err), { cause: err }));
      return;
    }
    this.options.logger.debug({ peer: peer.name, address: peer.federationAddress, attempt: this.attempt }, 'dialling peer');
    const call = client.Link();
    this.session = this.options.startSession(call, () => serverIdentity, {
      terminate: (error) => {
        if (error !== undefined) {
          call.cancel();
          return;
        }
        call.end();
        setTimeout(() => call.cancel(), END_GRACE_MS).unref();
      },
      onConnected: () => {
        this.attempt = 0;
        this.options.onState('connected');
      },
      onEnd: (error) => {
        this.session = undefined;
        client.close();
        if (!this.closed) this.fail(error ?? new CausewayError(ErrorCodes.PEER_UNREACHABLE, 'link closed'));
      },
    });
  }

  private fail(error: CausewayError): void {
    this.options.onState('disconnected', error.message);
    if (this.closed) return;
    const delay = backoffDelay(this.attempt, this.options.backoff, this.options.random);
    this.attempt += 1;
    this.options.logger.debug({ delayMs: delay, reason: error.message }, 'link down; redialling after backoff');
    this.timer = setTimeout(() => this.dial(), delay);
    this.timer.unref();
  }
}
