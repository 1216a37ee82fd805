import type { TrafficView } from './feed-types';
import { formatCount } from './format';

/** Counters since the gateway started; the requests one moves with every request through it. */
export function Totals({ totals }: { totals: TrafficView['totals'] }) {
  return (
    <dl class="totals">
      <div class="total-main">
        <dt>Requests</dt>
        {/* Keyed on the value: a new number is a new element, so its highlight plays again. */}
        <dd key={totals.requests} class="bump" data-testid="total-requests">{formatCount(totals.requests)}</dd>
      </div>
      <div><dt>Errors</dt><dd data-testid="total-errors">{formatCount(totals.errors)}</dd></div>
      <div><dt>Denials</dt><dd data-testid="total-denials">{formatCount(totals.denials)}</dd></div>
      <div><dt>Failovers</dt><dd data-testid="total-failovers">{formatCount(totals.failovers)}</dd></div>
    </dl>
  );
}
