import { createRequire } from 'node:module';
import { isGatewayField } from '../headers.js';

/**
 * HTTP/1.1 message parsing with llhttp — the parser node:http itself runs — as the WebAssembly
 * build that undici ships. A hand-written parser is where request smuggling lives (RFC 9112
 * §6.3, §11.2); llhttp in its strict default refuses Content-Length next to Transfer-Encoding,
 * duplicate or malformed Content-Length, bad chunk sizes, obs-fold, bare CR or LF and control
 * bytes in fields. Node's own binding of it is internal (`process.binding`, DEP0111), so the
 * undici build is the maintained copy we can load.
 *
 * The parser does not copy bodies out: it pauses at the end of a head and at the end of a
 * message and reports the byte offsets, so the caller forwards body bytes with their framing
 * (Content-Length or chunked) exactly as they arrived.
 */

const require = createRequire(import.meta.url);

/** llhttp's `llhttp_errno` values we act on (llhttp `constants.ERROR`). */
const HPE_OK = 0;
const HPE_PAUSED = 21;
const HPE_PAUSED_UPGRADE = 22;
const TYPE_REQUEST = 1;
const TYPE_RESPONSE = 2;
/** on_headers_complete return value: the message has no body (a response to HEAD). */
const SKIP_BODY = 1;

/** The slice of the WebAssembly API we use (lib.dom declares it; this project compiles without DOM types). */
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

interface LlhttpExports {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  llhttp_alloc(type: number): number;
  llhttp_free(parser: number): void;
  llhttp_execute(parser: number, data: number, length: number): number;
  llhttp_resume(parser: number): void;
  llhttp_resume_after_upgrade(parser: number): void;
  llhttp_reset(parser: number): void;
  llhttp_finish(parser: number): number;
  llhttp_get_error_pos(parser: number): number;
  llhttp_get_error_reason(parser: number): number;
  llhttp_errno_name(errno: number): number;
  llhttp_get_method(parser: number): number;
  llhttp_method_name(method: number): number;
  llhttp_get_http_major(parser: number): number;
  llhttp_get_http_minor(parser: number): number;
}

/** The head of one HTTP/1.x message as it arrived. */
export interface MessageHead {
  /** Request method (requests only). */
  method: string;
  /** Request target as sent (requests only). */
  target: string;
  /** Status code (responses only). */
  status: number;
  /** Reason phrase (responses only). */
  reason: string;
  versionMajor: number;
  versionMinor: number;
  /** Field names (as sent) and values, alternating. */
  rawHeaders: string[];
  /** llhttp's verdict (RFC 9112 §9.3): may the connection carry another message? */
  keepAlive: boolean;
  /** The message asks to switch protocols (Upgrade, or CONNECT). */
  upgrade: boolean;
}

/** What one `execute` call found: where it stopped and why. */
export interface ParseStep {
  /** Bytes of the input consumed. The rest belongs to what comes after the stop. */
  consumed: number;
  /** A head finished within the consumed bytes. */
  head?: MessageHead;
  /** The message ended within the consumed bytes. */
  end: boolean;
  /** After `end`: the message switched protocols (CONNECT, 101); the rest is no longer HTTP. */
  upgraded: boolean;
}

export class HttpParseError extends Error {
  /** llhttp's error name, e.g. `HPE_UNEXPECTED_CONTENT_LENGTH`. */
  readonly errno: string;
  constructor(errno: string, reason: string) {
    super(reason);
    this.errno = errno;
  }
}

let instance: { exports: LlhttpExports } | undefined;
/** The parser running inside `llhttp_execute`: the wasm callbacks report to it. */
let current: Http1Parser | undefined;
let scratchPtr = 0;
let scratchSize = 0;

function wasm(): LlhttpExports {
  if (instance !== undefined) return instance.exports;
  const bytes = require('undici/lib/llhttp/llhttp-wasm.js') as Buffer;
  const module = new WebAssemblyApi.Module(bytes);
  // Each callback reports (parser pointer, offset into wasm memory, length); spans are decoded
  // straight from the scratch copy of the input.
  // A callback returning -1 fails the parse (llhttp HPE_USER), which the caller sees as a
  // malformed message.
  const span = (fn: (p: Http1Parser, text: string) => number | void) => (_p: number, at: number, len: number): number => {
    if (current === undefined) return 0;
    return fn(current, current.text(at, len)) === -1 ? -1 : 0;
  };
  const created = new WebAssemblyApi.Instance(module, {
    env: {
      wasm_on_message_begin: () => current?.onMessageBegin() ?? 0,
      wasm_on_url: span((p, text) => { p.target += text; }),
      wasm_on_status: span((p, text) => { p.reason += text; }),
      wasm_on_header_field: span((p, text) => p.onField(text)),
      wasm_on_header_value: span((p, text) => p.onValue(text)),
      wasm_on_headers_complete: (_p: number, status: number, upgrade: number, keepAlive: number) =>
        current?.onHeadersComplete(status, upgrade === 1, keepAlive === 1) ?? 0,
      wasm_on_body: () => 0,
      wasm_on_message_complete: () => current?.onMessageComplete() ?? 0,
    },
  }) as unknown as { exports: LlhttpExports };
  (created.exports as unknown as { _initialize(): void })._initialize();
  instance = created;
  return created.exports;
}

function cString(exports: LlhttpExports, ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint8Array(exports.memory.buffer, ptr);
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.subarray(0, end < 0 ? 0 : end)).toString('latin1');
}

/**
 * One direction of one HTTP/1.1 connection. `execute` stops at every head end and message end
 * (see ParseStep); call it again with the unconsumed rest. A parse error throws HttpParseError
 * and the parser is unusable after it: the connection must close (RFC 9112 §11.2).
 */
export class Http1Parser {
  private readonly exports: LlhttpExports;
  private ptr: number;
  private paused = false;
  private upgraded = false;
  /** Bytes of field text in the head being read; bounds a head that never ends, too. */
  private headBytes = 0;
  private inHead = false;
  /** Set by `expectNoBody` before the response to a HEAD request is parsed (RFC 9110 §9.3.2). */
  private skipBody = false;
  // Filled by the wasm callbacks during execute.
  target = '';
  reason = '';
  private fields: string[] = [];
  private lastWasValue = false;
  private headDone: MessageHead | undefined;
  private ended = false;
  private base = 0;
  private input: Buffer | undefined;

  constructor(readonly kind: 'request' | 'response', private readonly maxHeadBytes: number) {
    this.exports = wasm();
    this.ptr = this.exports.llhttp_alloc(kind === 'request' ? TYPE_REQUEST : TYPE_RESPONSE);
  }

  /** The next response answers a HEAD request: it has no body whatever its framing fields say. */
  expectNoBody(skip: boolean): void {
    this.skipBody = skip;
  }

  execute(chunk: Buffer): ParseStep {
    if (this.ptr === 0) throw new HttpParseError('HPE_CLOSED', 'parser closed');
    if (this.upgraded) return { consumed: 0, end: false, upgraded: true };
    const { exports } = this;
    if (this.paused) {
      exports.llhttp_resume(this.ptr);
      this.paused = false;
    }
    if (chunk.length > scratchSize) {
      if (scratchPtr !== 0) exports.free(scratchPtr);
      scratchSize = Math.ceil(chunk.length / 16384) * 16384;
      scratchPtr = exports.malloc(scratchSize);
    }
    new Uint8Array(exports.memory.buffer, scratchPtr, chunk.length).set(chunk);
    this.headDone = undefined;
    this.ended = false;
    this.base = scratchPtr;
    this.input = chunk;
    let ret: number;
    current = this;
    try {
      ret = exports.llhttp_execute(this.ptr, scratchPtr, chunk.length);
    } finally {
      current = undefined;
      this.input = undefined;
    }
    const step: ParseStep = { consumed: chunk.length, end: this.ended, upgraded: false };
    if (this.headDone !== undefined) step.head = this.headDone;
    if (ret === HPE_OK) {
      if (this.inHead && this.headBytes > this.maxHeadBytes) this.tooLarge = true;
      return step;
    }
    const at = exports.llhttp_get_error_pos(this.ptr) - scratchPtr;
    if (ret === HPE_PAUSED) {
      this.paused = true;
      step.consumed = at;
      return step;
    }
    if (ret === HPE_PAUSED_UPGRADE) {
      this.upgraded = true;
      step.consumed = at;
      step.upgraded = true;
      return step;
    }
    throw this.error(ret);
  }

  /** The connection ended: a message delimited by close ends here; anything else half-read is an error. */
  finish(): { end: boolean } {
    if (this.ptr === 0 || this.upgraded) return { end: false };
    if (this.paused) {
      this.exports.llhttp_resume(this.ptr);
      this.paused = false;
    }
    this.ended = false;
    current = this;
    let ret: number;
    try {
      ret = this.exports.llhttp_finish(this.ptr);
    } finally {
      current = undefined;
    }
    if (ret === HPE_OK || ret === HPE_PAUSED) return { end: this.ended };
    throw this.error(ret);
  }

  close(): void {
    if (this.ptr !== 0) this.exports.llhttp_free(this.ptr);
    this.ptr = 0;
  }

  // --- wasm callbacks -------------------------------------------------------------------------

  /** @internal */
  text(at: number, len: number): string {
    const start = at - this.base;
    const input = this.input;
    if (input === undefined) return '';
    this.headBytes += len;
    return input.toString('latin1', start, start + len);
  }

  /** @internal */
  onMessageBegin(): number {
    this.target = '';
    this.reason = '';
    this.fields = [];
    this.lastWasValue = false;
    this.headBytes = 0;
    this.inHead = true;
    this.trailerName = '';
    this.trailerBytes = 0;
    return 0;
  }

  /** @internal */
  onField(text: string): number {
    // After the head, fields are a chunked body's trailer section (RFC 9112 §7.1.2): kept out
    // of the head, bounded by the same limit, and never carrying our own fields — a trailer is
    // forwarded as it came, so a `causeway-*` or x-forwarded-client-cert one would reach the
    // backend unfiltered.
    if (!this.inHead) return this.onTrailerField(text);
    if (this.lastWasValue || this.fields.length === 0) {
      this.fields.push(text, '');
    } else {
      this.fields[this.fields.length - 2] += text;
    }
    this.lastWasValue = false;
    return 0;
  }

  private trailerName = '';
  private trailerBytes = 0;
  /** Why a trailer section was refused, for the error the parse then throws. */
  trailerError: string | undefined;

  private onTrailerField(text: string): number {
    this.trailerName = this.lastWasValue ? text : this.trailerName + text;
    this.lastWasValue = false;
    return this.checkTrailer(text.length);
  }

  private checkTrailer(bytes: number): number {
    this.trailerBytes += bytes;
    if (this.trailerBytes > this.maxHeadBytes) this.trailerError = `trailer section over ${this.maxHeadBytes} bytes`;
    else if (isGatewayField(this.trailerName.toLowerCase())) this.trailerError = `trailer field ${this.trailerName.slice(0, 100)} is reserved for gateways`;
    return this.trailerError === undefined ? 0 : -1;
  }

  /** @internal */
  onValue(text: string): number {
    if (!this.inHead) {
      this.lastWasValue = true;
      return this.checkTrailer(text.length);
    }
    if (this.fields.length === 0) return 0;
    this.fields[this.fields.length - 1] += text;
    this.lastWasValue = true;
    return 0;
  }

  /** @internal */
  onHeadersComplete(status: number, upgrade: boolean, keepAlive: boolean): number {
    const { exports, ptr } = this;
    const request = this.kind === 'request';
    this.headDone = {
      method: request ? cString(exports, exports.llhttp_method_name(exports.llhttp_get_method(ptr))) : '',
      target: this.target,
      status: request ? 0 : status,
      reason: this.reason,
      versionMajor: exports.llhttp_get_http_major(ptr),
      versionMinor: exports.llhttp_get_http_minor(ptr),
      rawHeaders: this.fields,
      keepAlive,
      upgrade,
    };
    this.inHead = false;
    this.lastWasValue = true;
    this.lastStatus = status;
    if (this.headBytes > this.maxHeadBytes) this.tooLarge = true;
    // A response to HEAD has no body: llhttp moves straight on to message complete, where the
    // parser pauses; every other head pauses here so that the caller can route it first.
    if (!request && this.skipBody) return SKIP_BODY;
    return HPE_PAUSED;
  }

  /** @internal */
  onMessageComplete(): number {
    this.ended = true;
    // A 1xx before the final answer to a HEAD request leaves the HEAD rule in force (RFC 9110 §15.2).
    if (this.kind === 'request' || this.lastStatus >= 200) this.skipBody = false;
    return HPE_PAUSED;
  }

  private lastStatus = 0;

  /** Set when a head exceeded the limit; the caller answers 431 (RFC 6585 §5). */
  tooLarge = false;

  private error(ret: number): HttpParseError {
    const name = cString(this.exports, this.exports.llhttp_errno_name(ret));
    const reason = this.trailerError ?? cString(this.exports, this.exports.llhttp_get_error_reason(this.ptr));
    return new HttpParseError(name, reason === '' ? name : reason);
  }
}
