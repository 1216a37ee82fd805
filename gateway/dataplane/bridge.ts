import { constants as h2 } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { IdleSweeper } from './idle-sweeper.js';

export interface BridgeResult {
  /** Why the bridge was torn down, or undefined when both sides closed cleanly. */
  error: Error | undefined;
  /** Bytes read from `a` (and written to `b`), and the reverse. */
  bytesFromA: number;
  bytesFromB: number;
}

export interface BridgeOptions {
  /** Tear both sides down when no byte has moved either way for this long. */
  idleTimeoutMs: number;
  /** Judges idleness on a coarse clock, so that no timer is refreshed per chunk. */
  sweeper: IdleSweeper;
  /** Called exactly once, after the bridge ends either way. */
  onEnd?: (result: BridgeResult) => void;
}

/** An HTTP/2 stream: reset it rather than destroy it, so the peer learns why. */
interface ResettableStream {
  close(code?: number): void;
  rstCode?: number;
}

function isHttp2Stream(stream: Duplex): stream is Duplex & ResettableStream {
  return 'rstCode' in stream && typeof (stream as Partial<ResettableStream>).close === 'function';
}

/**
 * RFC 7540 §8.3: a TCP error on the far side of a CONNECT tunnel is reported to the client
 * with RST_STREAM(CONNECT_ERROR); anything else gets a plain destroy.
 */
function abort(stream: Duplex): void {
  if (stream.destroyed) return;
  if (isHttp2Stream(stream)) stream.close(h2.NGHTTP2_CONNECT_ERROR);
  else stream.destroy();
}

/** Closed after both of its directions finished, rather than cut off. */
function closedCleanly(stream: Duplex): boolean {
  return stream.readableEnded && stream.writableFinished;
}

/**
 * Pipes bytes both ways between two duplex streams (a proxied connection and its upstream).
 * Half-close is carried through: when one side ends its writing (TCP FIN, HTTP/2 END_STREAM),
 * the other side's writing is ended and the opposite direction keeps flowing until it ends
 * too (RFC 9293 §3.6 half-close; RFC 7540 §8.3 maps FIN to END_STREAM). An error, an
 * abrupt close of either side, or the idle timeout tears both sides down.
 */
export function bridge(a: Duplex, b: Duplex, options: BridgeOptions): (reason?: Error) => void {
  let ended = false;
  let bytesFromA = 0;
  let bytesFromB = 0;
  let closedA = false;
  let closedB = false;

  const idle = options.sweeper.watch(options.idleTimeoutMs, () => teardown(new Error(`tunnel idle for ${options.idleTimeoutMs} ms`)));

  function finish(error: Error | undefined): void {
    if (ended) return;
    ended = true;
    idle.stop();
    options.onEnd?.({ error, bytesFromA, bytesFromB });
  }

  function teardown(reason?: Error): void {
    if (ended) return;
    abort(a);
    abort(b);
    finish(reason ?? new Error('tunnel torn down'));
  }

  a.on('data', (chunk: Buffer) => {
    bytesFromA += chunk.length;
    idle.active = true;
  });
  b.on('data', (chunk: Buffer) => {
    bytesFromB += chunk.length;
    idle.active = true;
  });
  // Error listeners stay attached for the streams' lifetime: a late error must never become
  // an uncaught exception.
  a.on('error', (err: Error) => teardown(err));
  b.on('error', (err: Error) => teardown(err));
  a.on('close', () => {
    closedA = true;
    if (!closedCleanly(a)) teardown(new Error('client side closed before the tunnel finished'));
    else if (closedB) finish(undefined);
  });
  b.on('close', () => {
    closedB = true;
    if (!closedCleanly(b)) teardown(new Error('upstream side closed before the tunnel finished'));
    else if (closedA) finish(undefined);
  });

  a.pipe(b);
  b.pipe(a);
  return teardown;
}
