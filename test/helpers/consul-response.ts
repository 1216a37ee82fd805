import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';

/**
 * A `ctx` for a consul client call that also returns the HTTP response — `[res, body]` instead of
 * the body (papi's `ctx.includeResponse`) — so that a test can read X-Consul-Index.
 */
export function withResponse(): EventEmitter & { includeResponse: true } {
  return Object.assign(new EventEmitter(), { includeResponse: true as const });
}

/** The X-Consul-Index of an answer. */
export const indexOf = (res: IncomingMessage): number => Number(res.headers['x-consul-index']);
