import type { TrafficEdgeView } from './feed-types';
import { formatMs, formatPercent, formatRate } from './format';

/** Traffic per edge (direction, calling and serving cluster, service) over the window. */
export function TrafficTable({ edges, windowSeconds }: { edges: TrafficEdgeView[]; windowSeconds: number }) {
  if (edges.length === 0) return <p class="empty">No traffic in the last {windowSeconds} s.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Edge</th><th scope="col">Service</th><th scope="col" class="num">req/s</th>
          <th scope="col" class="num">Success</th><th scope="col" class="num">p99</th><th scope="col" class="num">Requests ({windowSeconds} s)</th>
        </tr>
      </thead>
      <tbody>
        {edges.map((edge) => (
          <tr key={`${edge.direction} ${edge.from} ${edge.to} ${edge.service}`} data-testid="traffic-edge"
            data-direction={edge.direction} data-from={edge.from} data-to={edge.to} data-service={edge.service}>
            <th scope="row">{edge.from} → {edge.to} <span class="note">{edge.direction}</span></th>
            <td>{edge.service}</td>
            <td class="num" data-testid="edge-rps">{formatRate(edge.rps)}</td>
            <td class="num">{formatPercent(edge.successRate)}</td>
            <td class="num">{formatMs(edge.p99Ms)}</td>
            <td class="num">{edge.requests}{edge.errors > 0 ? <span class="note"> ({edge.errors} failed)</span> : null}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
