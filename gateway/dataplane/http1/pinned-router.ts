import type { MessageHead } from './llhttp.js';
import type { Http1Router, Refusal, RouteAttempt, RoutedRequest } from './proxy-connection.js';

/**
 * The router of a connection that can only mean one service: a fixed local forward port
 * (`outbound.forward`), whose callers send `GET /x` with `Host: 127.0.0.1:9001` — or any Host
 * at all. Each request is handed to `inner` as if it had been sent to `authority`: the Host is
 * replaced by it and an absolute-form target becomes origin-form (RFC 9112 §3.2.2 lets a
 * server take either). Everything else — routing one by one, access, retries, the head
 * written upstream — is the inner router's, unchanged.
 */
export class PinnedRouter implements Http1Router {
  /** Per caller head, the rewritten one: the inner router keys a request's state by its head across retries. */
  private readonly pinned = new WeakMap<MessageHead, MessageHead>();

  constructor(private readonly inner: Http1Router, private readonly authority: string) {}

  route(head: MessageHead, attempt: RouteAttempt): Promise<RoutedRequest | Refusal> {
    let rewritten = this.pinned.get(head);
    if (rewritten === undefined) {
      rewritten = pinHead(head, this.authority);
      this.pinned.set(head, rewritten);
    }
    return this.inner.route(rewritten, attempt);
  }
}

/** `head` sent to `authority`: origin-form target, one Host naming it. */
export function pinHead(head: MessageHead, authority: string): MessageHead {
  const rawHeaders: string[] = [];
  for (let i = 0; i < head.rawHeaders.length; i += 2) {
    const name = head.rawHeaders[i]!;
    if (name.toLowerCase() !== 'host') rawHeaders.push(name, head.rawHeaders[i + 1]!);
  }
  rawHeaders.push('Host', authority);
  return { ...head, target: originForm(head.target), rawHeaders };
}

/**
 * The path and query of an absolute-form target (`http://127.0.0.1:9001/x?y` → `/x?y`); any
 * other target as it came (origin-form already, or one the inner router refuses, such as `*`).
 */
function originForm(target: string): string {
  if (target.startsWith('/') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return target;
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return target;
  }
}
