import type { Duplex } from 'node:stream';
import { CausewayError, ErrorCodes, describeError, type Logger } from '../../../registry/index.js';
import type { IdleSweeper, IdleWatch } from '../idle-sweeper.js';

/** Who gets a pooled connection's events while it carries an exchange. */
export interface ConnectionOwner {
  onData(chunk: Buffer): void;
  /** The peer ended its side (FIN, END_STREAM). */
  onEnd(): void;
  /** An error, or a close that was not preceded by an end. */
  onBroken(err: Error): void;
}

/** One keep-alive connection (a TCP socket, or a CONNECT stream to a remote gateway). */
export interface PooledConnection {
  readonly stream: Duplex;
  readonly key: string;
  readonly createdAt: number;
  /** Exchanges it carried, the current one included. */
  uses: number;
  owner: ConnectionOwner | undefined;
  /** Set when bytes move; read by the idle sweeper. */
  watch: IdleWatch | undefined;
  /** Ended, broken or destroyed: never handed out again. */
  dead: boolean;
  /** Still counted in its key's total (a dead connection is forgotten once). */
  counted: boolean;
}

/** Keep-alive connections to upstreams (local endpoints, CONNECT streams to remote gateways). */
export interface PoolTuning {
  /** Per endpoint, or per remote gateway + service + caller. */
  maxPerKey: number;
  /** Below the upstream's own keep-alive timeout (Node's is 5 s), so we close first. */
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  queueTimeoutMs: number;
}

/** The idle timeout stays below Node's 5 s server keep-alive timeout, so that we close first. */
export const DEFAULT_POOL: Readonly<PoolTuning> = { maxPerKey: 256, idleTimeoutMs: 4000, maxLifetimeMs: 300_000, queueTimeoutMs: 10_000 };

export interface UpstreamPoolOptions {
  /** Connections per key, in use and idle together. */
  maxPerKey: number;
  /** An idle connection is closed after this long (below the peer's own keep-alive timeout). */
  idleTimeoutMs: number;
  /** A connection is not handed out again once it is this old (0 = no limit). */
  maxLifetimeMs: number;
  /** A request waiting for a free connection gives up after this long. */
  queueTimeoutMs: number;
  sweeper: IdleSweeper;
  logger: Logger;
  /**
   * How a connection that cannot be reused is closed; default destroy(). The outbound pool
   * hands tunnel streams to the tunnel client, which rations RST_STREAMs per session so that
   * many callers giving up at once cannot trip a healthy peer's rapid-reset limit.
   */
  dispose?: (stream: Duplex) => void;
}

interface Waiter {
  create: () => Promise<Duplex>;
  resolve: (conn: PooledConnection) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

interface KeyState {
  idle: PooledConnection[];
  /** Open connections (idle, busy or still connecting). */
  count: number;
  waiters: Waiter[];
}

/**
 * Keep-alive connections by key (an endpoint `ip:port`, or a remote gateway + authority +
 * caller). Each connection has permanent listeners that pass its events to whoever holds it,
 * so an exchange adds no listener of its own. Idle connections are handed out most recently
 * used first; the rest age out on the idle timeout, which keeps the pool as small as the load.
 */
export class UpstreamPool {
  private readonly keys = new Map<string, KeyState>();
  private closed = false;
  private opened = 0;

  constructor(private readonly options: UpstreamPoolOptions) {}

  /**
   * A connection for `key`: an idle one, a new one from `create`, or the next one released.
   * `fresh`: never an idle one (a retry after a stale connection must not meet another).
   */
  acquire(key: string, create: () => Promise<Duplex>, options: { fresh?: boolean } = {}): Promise<PooledConnection> {
    if (this.closed) return Promise.reject(new CausewayError(ErrorCodes.CLOSED, 'upstream pool is closed'));
    const state = this.state(key);
    if (options.fresh === true) {
      // At the limit, the oldest idle connection makes room for the fresh one.
      const oldest = state.count >= this.options.maxPerKey ? state.idle[0] : undefined;
      if (oldest !== undefined) this.discard(oldest);
    } else {
      const idle = this.takeIdle(state);
      if (idle !== undefined) return Promise.resolve(idle);
    }
    if (state.count < this.options.maxPerKey) return this.open(key, state, create);
    return new Promise<PooledConnection>((resolve, reject) => {
      const waiter: Waiter = {
        create, resolve, reject,
        timer: setTimeout(() => {
          state.waiters.splice(state.waiters.indexOf(waiter), 1);
          reject(new CausewayError(ErrorCodes.UPSTREAM_TIMEOUT,
            `all ${this.options.maxPerKey} connections to ${key} stayed busy for ${this.options.queueTimeoutMs} ms`));
        }, this.options.queueTimeoutMs),
      };
      waiter.timer.unref();
      state.waiters.push(waiter);
    });
  }

  /**
   * The exchange on `conn` is over. A reusable connection goes back to the pool (or straight
   * to a waiter); anything else is destroyed.
   */
  release(conn: PooledConnection, reusable: boolean): void {
    conn.owner = undefined;
    if (!reusable || conn.dead || this.closed || this.tooOld(conn)) {
      this.discard(conn);
      return;
    }
    const state = this.state(conn.key);
    const waiter = state.waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      conn.uses += 1;
      waiter.resolve(conn);
      return;
    }
    conn.watch = this.options.sweeper.watch(this.options.idleTimeoutMs, () => this.discard(conn));
    state.idle.push(conn);
  }

  /** Destroys a connection and lets the next waiter open a fresh one. */
  discard(conn: PooledConnection): void {
    conn.dead = true;
    // Also when the peer already ended its side: our sockets allow half-open connections, so
    // one the peer ended stays open until we close it.
    if (!conn.stream.destroyed) {
      if (this.options.dispose === undefined) conn.stream.destroy();
      else this.options.dispose(conn.stream);
    }
    this.forget(conn);
  }

  stats(): { open: number; idle: number; opened: number } {
    let open = 0;
    let idle = 0;
    for (const state of this.keys.values()) {
      open += state.count;
      idle += state.idle.length;
    }
    return { open, idle, opened: this.opened };
  }

  close(): void {
    this.closed = true;
    for (const state of this.keys.values()) {
      for (const waiter of state.waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new CausewayError(ErrorCodes.CLOSED, 'upstream pool is closed'));
      }
      state.waiters = [];
      for (const conn of [...state.idle]) this.discard(conn);
    }
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (state === undefined) {
      state = { idle: [], count: 0, waiters: [] };
      this.keys.set(key, state);
    }
    return state;
  }

  private tooOld(conn: PooledConnection): boolean {
    return this.options.maxLifetimeMs > 0 && Date.now() - conn.createdAt >= this.options.maxLifetimeMs;
  }

  private takeIdle(state: KeyState): PooledConnection | undefined {
    for (;;) {
      const conn = state.idle.pop();
      if (conn === undefined) return undefined;
      conn.watch?.stop();
      conn.watch = undefined;
      // A stream destroyed with its 'close' still queued is dead already; one that aged past
      // its lifetime while idle is retired here, as it would have been on release.
      if (conn.dead || conn.stream.destroyed || !conn.stream.writable || this.tooOld(conn)) {
        this.discard(conn);
        continue;
      }
      conn.uses += 1;
      return conn;
    }
  }

  private async open(key: string, state: KeyState, create: () => Promise<Duplex>): Promise<PooledConnection> {
    state.count += 1;
    let stream: Duplex;
    try {
      stream = await create();
    } catch (err) {
      state.count -= 1;
      this.serveWaiter(key, state);
      throw err;
    }
    this.opened += 1;
    const conn: PooledConnection = { stream, key, createdAt: Date.now(), uses: 1, owner: undefined, watch: undefined, dead: false, counted: true };
    stream.on('data', (chunk: Buffer) => {
      const owner = conn.owner;
      if (owner !== undefined) owner.onData(chunk);
      else this.discard(conn); // bytes on an idle connection: it is out of step with us
    });
    stream.on('end', () => {
      const owner = conn.owner;
      conn.dead = true;
      if (owner !== undefined) owner.onEnd();
      else this.discard(conn);
    });
    const broken = (err: Error): void => {
      const owner = conn.owner;
      conn.dead = true;
      conn.owner = undefined;
      this.forget(conn);
      owner?.onBroken(err);
    };
    stream.on('error', (err: Error) => {
      this.options.logger.debug({ key, err: describeError(err) }, 'pooled connection failed');
      broken(err);
    });
    stream.on('close', () => broken(new Error('connection closed')));
    return conn;
  }

  /** Removes a dead connection from the counts, once. */
  private forget(conn: PooledConnection): void {
    conn.watch?.stop();
    conn.watch = undefined;
    const state = this.keys.get(conn.key);
    if (state === undefined || !conn.counted) return;
    conn.counted = false;
    const at = state.idle.indexOf(conn);
    if (at >= 0) state.idle.splice(at, 1);
    state.count -= 1;
    this.serveWaiter(conn.key, state);
    if (state.count === 0 && state.waiters.length === 0) this.keys.delete(conn.key);
  }

  private serveWaiter(key: string, state: KeyState): void {
    if (state.count >= this.options.maxPerKey) return;
    const waiter = state.waiters.shift();
    if (waiter === undefined) return;
    clearTimeout(waiter.timer);
    this.open(key, state, waiter.create).then(waiter.resolve, waiter.reject);
  }
}
