import type { PeerView } from './feed-types';
import { formatMs } from './format';

/** How a peer link is drawn: connected, connected but stale (silent for two heartbeats), or down. */
export type LinkLook = 'connected' | 'stale' | 'disconnected';

export function linkLook(peer: PeerView): LinkLook {
  if (peer.state !== 'connected') return 'disconnected';
  return peer.stale ? 'stale' : 'connected';
}

const WIDTH = 640;
const HEIGHT = 300;
const NODE_RADIUS = 30;
/** Room kept round the ring for a node's name under it and a link's label beside it. */
const MARGIN_X = 60;
const MARGIN_Y = 28;

interface Props {
  local: string;
  peers: PeerView[];
  /** Clusters the catalog knows without a link of ours (learned through a peer). */
  others: string[];
}

/**
 * The federation as this gateway sees it: its cluster in the middle, each other cluster around
 * it, a line for each of our peer links coloured by its state and labelled with its lag and silence.
 */
export function FederationMap({ local, peers, others }: Props) {
  const remote = [...peers.map((p) => p.cluster), ...others];
  const center = { x: WIDTH / 2, y: HEIGHT / 2 };
  const rx = WIDTH / 2 - NODE_RADIUS - MARGIN_X;
  const ry = HEIGHT / 2 - NODE_RADIUS - MARGIN_Y;
  const at = (i: number) => {
    // On an ellipse round this cluster, the first to the right: two peers sit left and right of it.
    const angle = (2 * Math.PI * i) / Math.max(1, remote.length);
    return { x: center.x + rx * Math.cos(angle), y: center.y + ry * Math.sin(angle) };
  };
  const place = new Map(remote.map((cluster, i) => [cluster, at(i)]));
  return (
    <svg class="map" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="map-title" data-testid="federation-map">
      <title id="map-title">{`Federation of ${local}: ${peers.length} peer link(s), ${remote.length} other cluster(s)`}</title>
      {peers.map((peer) => {
        const to = place.get(peer.cluster) ?? center;
        const look = linkLook(peer);
        const label = `lag ${formatMs(peer.lastAckLagMs)} · silent ${formatMs(peer.silentMs)}`;
        return (
          <g key={peer.cluster} class={`link link-${look}`} data-testid="peer-link" data-peer={peer.cluster} data-state={look}>
            <title>{`${local} — ${peer.cluster}: ${peer.state}${peer.stale ? ' (stale)' : ''}, ${label}${peer.lastError ? `, ${peer.lastError}` : ''}`}</title>
            <line x1={center.x} y1={center.y} x2={to.x} y2={to.y} />
            <text class="link-label" x={(center.x + to.x) / 2} y={(center.y + to.y) / 2 - 8} text-anchor="middle">
              {look === 'disconnected' ? peer.state : label}
            </text>
          </g>
        );
      })}
      <Node name={local} x={center.x} y={center.y} local />
      {remote.map((cluster) => {
        const p = place.get(cluster) ?? center;
        return <Node key={cluster} name={cluster} x={p.x} y={p.y} linked={peers.some((peer) => peer.cluster === cluster)} />;
      })}
    </svg>
  );
}

function Node({ name, x, y, local = false, linked = true }: { name: string; x: number; y: number; local?: boolean; linked?: boolean }) {
  return (
    <g class={`node${local ? ' node-local' : ''}${linked ? '' : ' node-unlinked'}`} data-testid="cluster-node" data-cluster={name} data-local={String(local)}>
      <circle cx={x} cy={y} r={NODE_RADIUS} />
      <text x={x} y={y + NODE_RADIUS + 16} text-anchor="middle">{name}</text>
      {linked ? null : <text class="node-note" x={x} y={y + 4} text-anchor="middle">via peer</text>}
    </g>
  );
}
