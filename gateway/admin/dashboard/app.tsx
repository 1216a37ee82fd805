import type { LiveUpdate } from './feed-types';
import { FederationMap } from './federation-map';
import { GatewayHeader } from './gateway-header';
import { liveFeedUrl, useLiveFeed } from './live-connection';
import { PeerTable } from './peer-table';
import { RecentEvents } from './recent-events';
import { ServicesTable } from './services-table';
import { Totals } from './totals';
import { TrafficTable } from './traffic-table';

/** The one screen: identity and state on top, the map and the counters, then services and traffic. */
export function App() {
  const { state, update } = useLiveFeed(liveFeedUrl(window.location.href));
  return (
    <>
      <GatewayHeader status={update?.status} connection={state} asOf={update?.traffic.at} />
      {update === undefined ? <main><p class="empty">Waiting for the gateway…</p></main> : <Dashboard update={update} stale={state !== 'live'} />}
    </>
  );
}

function Dashboard({ update, stale }: { update: LiveUpdate; stale: boolean }) {
  const { status, services, traffic } = update;
  const clusters = clustersOf(update);
  const peered = new Set(status.peers.map((p) => p.cluster));
  return (
    <main class={stale ? 'stale' : undefined}>
      <section class="panel panel-map" aria-labelledby="h-map">
        <h2 id="h-map">Federation</h2>
        <FederationMap local={status.cluster} peers={status.peers} others={clusters.filter((c) => c !== status.cluster && !peered.has(c))} />
        <Legend />
        <PeerTable peers={status.peers} />
      </section>
      <section class="panel panel-totals" aria-labelledby="h-totals">
        <h2 id="h-totals">Since start</h2>
        <Totals totals={traffic.totals} />
        <h2>Failovers, denials, ejections</h2>
        <RecentEvents events={traffic.recent} ejected={status.outbound.ejectedGateways} />
      </section>
      <section class="panel panel-services" aria-labelledby="h-services">
        <h2 id="h-services">Services × clusters <span class="note">healthy/total endpoints, reachability</span></h2>
        <ServicesTable services={services} clusters={clusters} />
      </section>
      <section class="panel panel-traffic" aria-labelledby="h-traffic">
        <h2 id="h-traffic">Live traffic <span class="note">last {traffic.windowSeconds} s</span></h2>
        <TrafficTable edges={traffic.edges} windowSeconds={traffic.windowSeconds} />
      </section>
    </main>
  );
}

function Legend() {
  return (
    <p class="legend">
      <span class="swatch link-connected" /> connected <span class="swatch link-stale" /> stale <span class="swatch link-disconnected" /> disconnected
    </p>
  );
}

/** This cluster first, then every other one a peer link or a service names, by name. */
function clustersOf({ status, services }: LiveUpdate): string[] {
  const others = new Set<string>(status.peers.map((p) => p.cluster));
  for (const service of services) for (const cluster of Object.keys(service.clusters)) others.add(cluster);
  others.delete(status.cluster);
  return [status.cluster, ...[...others].sort()];
}
