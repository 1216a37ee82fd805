import type { GatewayStatus, NotableEventView } from './feed-types';
import { formatTime } from './format';

type Ejection = GatewayStatus['outbound']['ejectedGateways'][number];

/** The latest failovers, denials and ejections (newest first), and the gateways ejected now. */
export function RecentEvents({ events, ejected }: { events: NotableEventView[]; ejected: Ejection[] }) {
  const now = ejected.filter((e) => e.condition !== 'ok');
  return (
    <>
      {now.length > 0 ? (
        <ul class="events" aria-label="Ejected now">
          {now.map((e) => (
            <li key={`${e.gateway} ${e.service}`} data-testid="ejected-gateway">
              <span class="badge badge-disconnected">{e.condition}</span> {e.service} at {e.gateway}{e.reason ? <span class="note"> {e.reason}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {events.length === 0 ? <p class="empty">No failovers, denials or ejections.</p> : (
        <ul class="events">
          {events.map((e) => (
            <li key={`${e.at} ${e.kind} ${e.service} ${e.cluster ?? ''}`} data-testid="recent-event" data-kind={e.kind}>
              <time dateTime={e.at}>{formatTime(e.at)}</time> <span class={`badge badge-${e.kind}`}>{e.kind}</span> {e.service}
              {e.count > 1 ? <span class="note"> ×{e.count}</span> : null} <span class="note">{e.message}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
