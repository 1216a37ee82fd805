import type { ServiceClusterView, ServiceView } from './feed-types';

/** Services × clusters: healthy endpoints of all, and whether the cluster can be reached from here. */
export function ServicesTable({ services, clusters }: { services: ServiceView[]; clusters: string[] }) {
  if (services.length === 0) return <p class="empty">No services in the catalog.</p>;
  return (
    <table>
      <thead>
        <tr><th scope="col">Service</th>{clusters.map((c) => <th key={c} scope="col">{c}</th>)}</tr>
      </thead>
      <tbody>
        {services.map((service) => (
          <tr key={service.key} data-testid="service-row" data-service={service.key}>
            <th scope="row">{service.key}</th>
            {clusters.map((cluster) => <Cell key={cluster} cluster={cluster} view={service.clusters[cluster]} />)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Cell({ cluster, view }: { cluster: string; view: ServiceClusterView | undefined }) {
  if (view === undefined) return <td class="muted">—</td>;
  const healthy = view.endpoints.filter((e) => e.state === 'healthy').length;
  const look = view.reachability === 'unreachable' || view.reachability === 'ejected' ? 'disconnected'
    : healthy === view.endpoints.length ? 'connected' : healthy === 0 ? 'disconnected' : 'stale';
  return (
    <td data-testid="service-cell" data-cluster={cluster}>
      <span class="figure">{healthy}/{view.endpoints.length}</span> <span class={`badge badge-${look}`}>{view.reachability}</span>
    </td>
  );
}
