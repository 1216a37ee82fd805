import type { PeerView } from './feed-types';
import { linkLook } from './federation-map';
import { formatMs } from './format';

/** The map's links in figures: state, replication lag, silence, messages not yet acknowledged. */
export function PeerTable({ peers }: { peers: PeerView[] }) {
  if (peers.length === 0) return <p class="empty">No peers yet (causeway peer token / peer add).</p>;
  return (
    <table>
      <thead>
        <tr><th scope="col">Peer</th><th scope="col">Link</th><th scope="col">Lag</th><th scope="col">Silent</th><th scope="col">Unacked</th></tr>
      </thead>
      <tbody>
        {peers.map((peer) => (
          <tr key={peer.cluster} data-testid="peer-row" data-peer={peer.cluster}>
            <th scope="row">{peer.cluster}</th>
            <td><span class={`badge badge-${linkLook(peer)}`}>{peer.state}{peer.stale ? ', stale' : ''}</span>{peer.lastError ? <span class="note"> {peer.lastError}</span> : null}</td>
            <td>{formatMs(peer.lastAckLagMs)}</td>
            <td>{formatMs(peer.silentMs)}</td>
            <td>{peer.unacked}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
