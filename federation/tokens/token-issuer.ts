import { timingSafeEqual } from 'node:crypto';
import { CausewayError, ErrorCodes, silentLogger, type Logger, type Store } from '../../registry/index.js';
import { secretHash } from './token-codec.js';

/** What the issuer keeps per minted token — never the secret itself (see token-codec.ts). */
export interface IssuedToken {
  id: string;
  /** sha256 (hex) of the secret's bytes. */
  secretHash: string;
  /** sha256 (hex) of the payload bytes as minted. */
  payloadDigest: string;
  /** Expiry, Unix seconds. */
  exp: number;
  /** When it was redeemed (ms since the epoch). */
  usedAt?: number;
  /** Peering tokens: the name the redeeming peer will get (createToken's peerName). */
  peerName?: string;
  /** Peering tokens: the labels the redeeming peer will get (createToken's labels; see registry/export-scope.ts). */
  peerLabels?: Record<string, string>;
  /** Join tokens: the SPIFFE ID (or `spiffe://td/prefix/*` pattern) the token lets its holder obtain. */
  grant?: string;
  /** Join tokens for an agent (`token create --agent HOST`): the host it was minted for. */
  agent?: string;
  /** Who redeemed it (a cluster, or the SPIFFE ID issued). */
  usedBy?: string;
}

/** A freshly minted token, as the issuer records it. */
export interface MintedToken {
  id: string;
  secretHash: string;
  payloadDigest: string;
  /** Unix seconds. */
  exp: number;
}

interface TokenFile {
  version: 1;
  tokens: IssuedToken[];
}

export interface TokenIssuerOptions {
  store: Store;
  /** Store entry name (default 'peering-tokens'). */
  name?: string;
  /** What these tokens are, for messages: "peering" (default) or "join". */
  kind?: string;
  /**
   * How long an expired (or used) token is kept before it is pruned, in seconds (default
   * 3600): within that window a late redemption still gets the precise CW_TOKEN_EXPIRED /
   * CW_TOKEN_USED instead of CW_TOKEN_UNKNOWN.
   */
  pruneGraceSeconds?: number;
  logger?: Logger;
}

/**
 * The issuer side of one-time tokens (peering, join): remembers outstanding tokens in a Store and redeems
 * each at most once. Operations are serialised, and a redemption is persisted BEFORE it is
 * answered, so a crash can never let a token be used twice.
 */
export class TokenIssuer {
  private readonly store: Store;
  private readonly name: string;
  private readonly kind: string;
  private readonly graceSeconds: number;
  private readonly logger: Logger;
  private tokens: IssuedToken[] | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: TokenIssuerOptions) {
    this.store = options.store;
    this.name = options.name ?? 'peering-tokens';
    this.kind = options.kind ?? 'peering';
    this.graceSeconds = options.pruneGraceSeconds ?? 3600;
    this.logger = (options.logger ?? silentLogger()).child({ component: 'token-issuer' });
  }

  /** Records a token minted by the caller (`mint` runs inside the issuer's queue), persisting it before it is returned. */
  issue<T extends { minted: MintedToken }>(mint: () => T, extra: { peerName?: string; peerLabels?: Record<string, string>; grant?: string; agent?: string } = {}, now: number = Date.now()): Promise<T> {
    return this.serialised(async () => {
      const tokens = await this.loaded();
      const created = mint();
      const record: IssuedToken = { ...created.minted, ...extra };
      await this.save([...this.pruned(tokens, now), record]);
      this.logger.info({ tokenId: record.id, exp: record.exp }, `${this.kind} token minted`);
      return created;
    });
  }

  /**
   * Checks a redemption without consuming the token. Errors: CW_TOKEN_UNKNOWN (no such id,
   * or the wrong secret — deliberately indistinguishable), CW_TOKEN_TAMPERED (payload digest
   * differs from what was minted), CW_TOKEN_EXPIRED, CW_TOKEN_USED. `now` is ms.
   */
  check(id: string, secret: string, payloadDigest: string, now: number): Promise<IssuedToken> {
    return this.serialised(async () => checkToken(await this.loaded(), id, secret, payloadDigest, now, this.kind));
  }

  /** check(), then marks the token used and persists that before resolving. */
  redeem(id: string, secret: string, payloadDigest: string, now: number, usedBy: string): Promise<IssuedToken> {
    return this.serialised(async () => {
      const tokens = await this.loaded();
      const token = checkToken(tokens, id, secret, payloadDigest, now, this.kind);
      const used: IssuedToken = { ...token, usedAt: now, usedBy };
      await this.save(this.pruned(tokens, now).map((t) => (t.id === id ? used : t)));
      this.logger.info({ tokenId: id, usedBy }, `${this.kind} token redeemed`);
      return used;
    });
  }

  /**
   * Undoes redeem() for a redemption whose effect could not be persisted, so the token is
   * not burnt by a failure that peered nothing. Unknown or unused ids are left alone.
   */
  release(id: string): Promise<void> {
    return this.serialised(async () => {
      const tokens = await this.loaded();
      if (!tokens.some((t) => t.id === id && t.usedAt !== undefined)) return;
      await this.save(tokens.map((t) => {
        if (t.id !== id) return t;
        const { usedAt: _usedAt, usedBy: _usedBy, ...unused } = t;
        return unused;
      }));
      this.logger.info({ tokenId: id }, `${this.kind} token released`);
    });
  }

  /** Held token records (for status and tests). */
  async list(): Promise<readonly IssuedToken[]> {
    return this.serialised(async () => [...(await this.loaded())]);
  }

  private pruned(tokens: readonly IssuedToken[], now: number): IssuedToken[] {
    const cutoff = Math.floor(now / 1000) - this.graceSeconds;
    return tokens.filter((t) => t.exp > cutoff);
  }

  private async save(tokens: IssuedToken[]): Promise<void> {
    const file: TokenFile = { version: 1, tokens };
    await this.store.save(this.name, file);
    this.tokens = tokens;
  }

  private async loaded(): Promise<IssuedToken[]> {
    if (this.tokens === undefined) this.tokens = parseTokenFile(await this.store.load<unknown>(this.name), this.name);
    return this.tokens;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.catch(() => undefined);
    return result;
  }
}

function checkToken(tokens: readonly IssuedToken[], id: string, secret: string, payloadDigest: string, now: number, kind: string): IssuedToken {
  const token = tokens.find((t) => t.id === id);
  const unknown = new CausewayError(ErrorCodes.TOKEN_UNKNOWN, `this gateway did not mint that ${kind} token (or it was pruned)`);
  if (token === undefined) throw unknown;
  // Compare hashes of equal length in constant time; a wrong secret looks like an unknown id.
  if (!timingSafeEqual(Buffer.from(secretHash(secret), 'hex'), Buffer.from(token.secretHash, 'hex'))) throw unknown;
  if (payloadDigest !== token.payloadDigest) {
    throw new CausewayError(ErrorCodes.TOKEN_TAMPERED, `${kind} token payload differs from the token this gateway minted`);
  }
  if (Math.floor(now / 1000) >= token.exp) {
    throw new CausewayError(ErrorCodes.TOKEN_EXPIRED, `${kind} token expired at ${new Date(token.exp * 1000).toISOString()}`);
  }
  if (token.usedAt !== undefined) {
    throw new CausewayError(ErrorCodes.TOKEN_USED, `${kind} token was already redeemed${token.usedBy === undefined ? '' : ` by ${token.usedBy}`}`);
  }
  return token;
}

function parseTokenFile(value: unknown, name: string): IssuedToken[] {
  if (value === undefined) return [];
  const corrupt = (problem: string): CausewayError => new CausewayError(ErrorCodes.STORE_CORRUPT, `${name}: ${problem}`);
  if (value === null || typeof value !== 'object' || (value as TokenFile).version !== 1 || !Array.isArray((value as TokenFile).tokens)) {
    throw corrupt('expected {"version": 1, "tokens": [...]}');
  }
  return (value as TokenFile).tokens.map((t, i) => {
    const ok = t !== null && typeof t === 'object'
      && typeof t.id === 'string' && /^[0-9a-f]{64}$/.test(String(t.secretHash)) && /^[0-9a-f]{64}$/.test(String(t.payloadDigest))
      && Number.isSafeInteger(t.exp)
      && (t.usedAt === undefined || Number.isSafeInteger(t.usedAt))
      && (t.peerName === undefined || typeof t.peerName === 'string')
      && (t.peerLabels === undefined || (typeof t.peerLabels === 'object' && t.peerLabels !== null && !Array.isArray(t.peerLabels)
        && Object.values(t.peerLabels).every((v) => typeof v === 'string')))
      && (t.grant === undefined || typeof t.grant === 'string')
      && (t.agent === undefined || typeof t.agent === 'string')
      && (t.usedBy === undefined || typeof t.usedBy === 'string');
    if (!ok) throw corrupt(`tokens[${i}] is not a token record`);
    return t;
  });
}
