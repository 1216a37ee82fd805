import { useEffect, useState } from 'preact/hooks';
import type { LiveUpdate } from './feed-types';

export type ConnectionState = 'connecting' | 'live' | 'disconnected';

/** Reconnects wait 0.5 s, doubling to 10 s at most, each with jitter so many tabs do not come back at once. */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
/** The gateway sends an update every second: an open socket silent this long has died without a close. */
const SILENCE_MS = 5_000;

/** The live feed beside the page: /dashboard/ → /v1/live on the same admin address (ws, or wss under https). */
export function liveFeedUrl(page: string): string {
  const url = new URL('../v1/live', page);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/** The latest update of the feed at `url`, and whether it is live; reconnects with capped backoff when it drops. */
export function useLiveFeed(url: string): { state: ConnectionState; update: LiveUpdate | undefined } {
  const [state, setState] = useState<ConnectionState>('connecting');
  const [update, setUpdate] = useState<LiveUpdate | undefined>(undefined);

  useEffect(() => {
    let socket: WebSocket | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let silence: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let stopped = false;

    const dropped = (): void => {
      clearTimeout(silence);
      if (socket !== undefined) {
        socket.onmessage = null;
        socket.onclose = null;
        socket.close();
        socket = undefined;
      }
      if (stopped) return;
      setState('disconnected');
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures) * (0.5 + Math.random() / 2);
      failures += 1;
      retry = setTimeout(open, delay);
    };
    const open = (): void => {
      socket = new WebSocket(url);
      socket.onclose = dropped;
      socket.onmessage = (event: MessageEvent) => {
        const message = parse(event.data);
        if (message === undefined) return;
        failures = 0;
        setUpdate(message);
        setState('live');
        clearTimeout(silence);
        silence = setTimeout(dropped, SILENCE_MS);
      };
    };

    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      dropped();
    };
  }, [url]);

  return { state, update };
}

function parse(data: unknown): LiveUpdate | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const message = JSON.parse(data) as Partial<LiveUpdate>;
    return message.type === 'update' ? (message as LiveUpdate) : undefined;
  } catch {
    return undefined;
  }
}
