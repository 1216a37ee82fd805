import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * A raw HTTP/1.1 client connection for tests that must control the bytes: pipelined requests,
 * malformed framing, 100-continue by hand, and watching for the connection to close. Its
 * response reader is deliberately independent of the gateway's parser (RFC 9112 §6.3 framing:
 * no body for HEAD/1xx/204/304, then chunked, then Content-Length, else until close).
 */

export interface RawResponse {
  status: number;
  reason: string;
  /** Lower-case names; repeated fields joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  trailers: Record<string, string>;
}

export class RawConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private ended = false;
  private waiter: (() => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    const end = (): void => {
      this.ended = true;
      this.wake();
    };
    socket.once('end', end);
    socket.once('close', end);
  }

  /** Over any byte stream (a CONNECT stream to a gateway, say). */
  static over(stream: Duplex): RawConnection {
    return new RawConnection(stream);
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, allowHalfOpen: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawConnection(socket));
      });
    });
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Whether the peer has ended or closed the connection. */
  get peerEnded(): boolean {
    return this.ended;
  }

  /**
   * The next whole response. `method` is the request's (HEAD answers have no body). A 1xx
   * answer is returned on its own; read again for the final one. Rejects after `timeoutMs`,
   * or when the connection ends first.
   */
  async readResponse(options: { method?: string; timeoutMs?: number } = {}): Promise<RawResponse> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const parsed = parseResponse(this.buffer, options.method ?? 'GET', this.ended);
      if (parsed !== undefined) {
        this.buffer = this.buffer.subarray(parsed.used);
        return parsed.response;
      }
      if (this.ended) throw new Error(`connection ended before a whole response; had ${JSON.stringify(this.buffer.toString('latin1').slice(0, 300))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no whole response within ${options.timeoutMs ?? 20_000} ms; had ${JSON.stringify(this.buffer.toString('latin1').slice(0, 300))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves true when the peer ends the connection within `ms`, false otherwise. */
  async endsWithin(ms: number): Promise<boolean> {
    if (this.ended) return true;
    const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref());
    const ended = new Promise<boolean>((resolve) => {
      const check = (): void => resolve(true);
      this.socket.once('end', check);
      this.socket.once('close', check);
    });
    return Promise.race([timer, ended]);
  }

  /** What arrived and was not read as a response. */
  unread(): Buffer {
    return this.buffer;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

function parseFields(lines: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad field line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    fields[name] = fields[name] === undefined ? value : `${fields[name]}, ${value}`;
  }
  return fields;
}

function parseResponse(buffer: Buffer, method: string, ended: boolean): { response: RawResponse; used: number } | undefined {
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const lines = buffer.toString('latin1', 0, headEnd).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
  if (status === null) throw new Error(`bad status line ${JSON.stringify(lines[0])}`);
  const code = Number(status[1]);
  const headers = parseFields(lines.slice(1));
  const start = headEnd + 4;
  const done = (body: Buffer, used: number, trailers: Record<string, string> = {}): { response: RawResponse; used: number } =>
    ({ response: { status: code, reason: status[2] ?? '', headers, body, trailers }, used });
  if (method === 'HEAD' || code < 200 || code === 204 || code === 304) return done(Buffer.alloc(0), start);
  if (headers['transfer-encoding'] !== undefined) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buffer.toString('latin1', at, lineEnd).split(';')[0]!, 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size in a response');
      at = lineEnd + 2;
      if (size === 0) {
        const trailerEnd = buffer.indexOf('\r\n\r\n', at - 2);
        if (trailerEnd < 0) return undefined;
        const trailerText = buffer.toString('latin1', at, trailerEnd);
        return done(Buffer.concat(parts), trailerEnd + 4, trailerText === '' ? {} : parseFields(trailerText.split('\r\n')));
      }
      if (buffer.length < at + size + 2) return undefined;
      parts.push(buffer.subarray(at, at + size));
      at += size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (buffer.length < start + length) return undefined;
    return done(buffer.subarray(start, start + length), start + length);
  }
  // Delimited by close.
  return ended ? done(buffer.subarray(start), buffer.length) : undefined;
}
