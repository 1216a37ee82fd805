import { once } from 'node:events';
import { pino, type DestinationStream, type Logger } from 'pino';
import { REDACT_PATHS } from '../../registry/index.js';
import { outcomeOf } from './outcome.js';
import type { InboundRequestEvent, OutboundRequestEvent, TelemetryEvent, TunnelClosedEvent } from './events.js';

export interface AccessLogOptions {
  /** A file (appended to; its directory is made), `-` for standard output, or a stream (tests). */
  destination: string | NodeJS.WritableStream;
  /** The fraction of successful requests logged; failures and denials always are. */
  sample: number;
  /** This gateway's cluster: the `cluster` of what its own endpoints served. */
  localCluster: string;
  random?: () => number;
}

/**
 * The access log: one JSON line per request, tunnel opening and tunnel close, on a pino
 * logger of its own (never mixed into the gateway's log), with the same redaction. What a line
 * holds is listed in docs/observability.md; it never holds a header value, a query string or a
 * body — the places a secret could be — only the caller's verified identity, what it asked
 * for, where it went and how it ended.
 */
export class AccessLog {
  private readonly logger: Logger;
  private readonly stream: DestinationStream | NodeJS.WritableStream;
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: AccessLogOptions) {
    this.random = options.random ?? Math.random;
    this.stream = typeof options.destination === 'string'
      ? pino.destination({ dest: options.destination === '-' ? 1 : options.destination, sync: false, mkdir: true, append: true })
      : options.destination;
    this.logger = pino({
      base: undefined, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      // Every line says what it is (and pino's level would say nothing here: all are info).
      formatters: { level: () => ({ log: 'access' }) },
    }, this.stream);
  }

  /** The bus subscriber. */
  readonly observe = (event: TelemetryEvent): void => {
    if (this.closed) return;
    switch (event.type) {
      case 'request':
        this.outbound(event);
        return;
      case 'inbound':
        this.inbound(event);
        return;
      case 'tunnel.closed':
        this.tunnelClosed(event);
        return;
      default:
    }
  };

  /** Flushes what is buffered; a file stays as written. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const stream = this.stream as DestinationStream & { flush?: (cb: (err?: Error) => void) => void; end?: () => void; fd?: number };
    if (typeof this.options.destination !== 'string') return;
    if (this.options.destination === '-') {
      await new Promise<void>((resolve) => (stream.flush === undefined ? resolve() : stream.flush(() => resolve())));
      return;
    }
    const closedEvent = once(stream as unknown as NodeJS.EventEmitter, 'close');
    stream.end?.();
    await closedEvent;
  }

  private keep(status: number, code: string | undefined): boolean {
    return outcomeOf(status, code) !== 'success' || this.options.sample >= 1 || this.random() < this.options.sample;
  }

  private outbound({ record }: OutboundRequestEvent): void {
    if (!this.keep(record.status, record.code)) return;
    this.logger.info({
      direction: 'outbound', at: record.at, source: record.source, method: record.method, target: `${record.service}:${record.port}`,
      cluster: record.cluster, endpoint: record.endpoint, route: record.route, status: record.status, code: record.code,
      outcome: outcomeOf(record.status, record.code), failover: record.failover, retries: record.retries,
      requestBytes: record.requestBytes, responseBytes: record.responseBytes, durationMs: round(record.durationMs), via: record.via,
    }, record.method === 'CONNECT' ? 'tunnel' : 'request');
  }

  private inbound(event: InboundRequestEvent): void {
    if (!this.keep(event.status, event.code)) return;
    this.logger.info({
      direction: 'inbound', at: event.at, source: event.source, peer: event.peer, kind: event.kind, target: `${event.service}:${event.port}`,
      cluster: this.options.localCluster, endpoint: event.endpoint, status: event.status, code: event.code, rule: event.rule,
      outcome: outcomeOf(event.status, event.code), requestBytes: event.requestBytes, responseBytes: event.responseBytes, durationMs: round(event.durationMs),
    }, event.kind === 'tcp' ? 'tunnel' : 'request');
  }

  private tunnelClosed(event: TunnelClosedEvent): void {
    // Tunnels are few and long: every close is logged, with the bytes it carried.
    this.logger.info({
      direction: event.direction, source: event.source, target: `${event.service}:${event.port}`, cluster: event.cluster, endpoint: event.endpoint,
      bytesSent: event.bytesSent, bytesReceived: event.bytesReceived, durationMs: round(event.durationMs), error: event.error,
    }, 'tunnel closed');
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
