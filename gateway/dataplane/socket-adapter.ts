import { Duplex } from 'node:stream';

/**
 * Presents a tunnel stream (an HTTP/2 CONNECT stream) to `http.request` as its socket.
 *
 * Handing the HTTP/2 stream to ClientRequest directly corrupts the request line on Node 20:
 * ClientRequest corks the socket and writes the head as a latin1 string together with the
 * body Buffer, and that mixed writev reaches the HTTP/2 stream garbled (seen as a 400 from
 * every backend for requests with a body). This adapter decodes every chunk to its own
 * Buffer (decodeStrings) and writes them one at a time, so the stream sees plain Buffers.
 */
export class SocketAdapter extends Duplex {
  constructor(private readonly inner: Duplex & { setTimeout?: (ms: number, callback?: () => void) => unknown }) {
    super({ decodeStrings: true, allowHalfOpen: true });
    inner.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.once('end', () => this.push(null));
    inner.once('error', (err) => this.destroy(err));
    inner.once('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.inner.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // ClientRequest destroys its socket once the response has ended. If the exchange ended
    // cleanly both ways, the HTTP/2 stream closes by itself (END_STREAM both ways);
    // destroying it here would send RST_STREAM for every request, and the peer's nghttp2
    // reset-rate limit (the HTTP/2 "rapid reset" mitigation) then kills the whole session
    // with INTERNAL_ERROR under load.
    const finished = this.inner.readableEnded && this.inner.writableFinished;
    if (error !== null || !finished) this.inner.destroy(error ?? undefined);
    callback(error);
  }

  // The parts of net.Socket that ClientRequest calls.
  setTimeout(ms: number, callback?: () => void): this {
    this.inner.setTimeout?.(ms, callback);
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }
}
