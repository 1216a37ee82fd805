import { isIP } from 'node:net';
import { serviceKey, type CatalogReader, type ServiceKey } from '../../registry/index.js';
import type { PolicySet } from '../policy/policy-set.js';
import type { Listener } from './generated/envoy/config/listener/v3/Listener.js';
import type { HttpConnectionManager } from './generated/envoy/extensions/filters/network/http_connection_manager/v3/HttpConnectionManager.js';
import { rbacFilters } from './rbac-config.js';
import { DOWNSTREAM_TLS_TYPE, HTTP_CONNECTION_MANAGER_TYPE, ROUTER_TYPE, TYPE_URLS } from './xds-protos.js';

/**
 * The name an xDS-enabled gRPC server asks for (gRFC A36), with its bootstrap's
 * `server_listener_resource_name_template` set to `grpc/server?xds.resource.listening_address=%s`
 * (the template A36 suggests; docs/xds.md): `%s` is the `IP:port` it binds.
 */
export const SERVER_LISTENER_PREFIX = 'grpc/server?xds.resource.listening_address=';

/** The address of a server listener name, or undefined when `name` is not one. */
export function serverListenerAddress(name: string): { host: string; port: number } | undefined {
  if (!name.startsWith(SERVER_LISTENER_PREFIX)) return undefined;
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(name.slice(SERVER_LISTENER_PREFIX.length));
  if (match === null) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  if (isIP(host) === 0 || port < 1 || port > 65535) return undefined;
  return { host, port };
}

export interface ServerListenerContext {
  catalog: CatalogReader;
  policies: PolicySet;
  trustDomain: string;
  /** The server's SPIFFE ID: only its own endpoints have a listener for it. */
  caller: string;
  /**
   * The certificate provider instance of the server's bootstrap (gRFC A29) that holds its SVID
   * and trust bundle, named in its node metadata (`causeway.dev/certificate-provider`). Without
   * it the listener is plaintext and has no RBAC: a server that cannot see certificates
   * cannot tell callers apart, and access stays with the gateways.
   */
  certificateProvider: string | undefined;
}

const ANY_ADDRESS = new Set(['0.0.0.0', '::']);

/** The services whose local endpoints of `caller` listen on `host:port` (any address: every one of the caller's on that port). */
export function servicesAt(address: { host: string; port: number }, catalog: CatalogReader, caller: string): ServiceKey[] {
  const services = new Set<ServiceKey>();
  for (const record of catalog.recordsOf(catalog.localCluster)) {
    if (record.deleted) continue;
    const here = record.endpoints.some((e) => e.identity === caller
      && (e.address === address.host || ANY_ADDRESS.has(address.host))
      && Object.values(e.ports).includes(address.port));
    if (here) services.add(serviceKey(record.name, record.namespace));
  }
  return [...services].sort();
}

/**
 * The server-side Listener (gRFC A36) of `name` for `context.caller`, or undefined when no
 * local endpoint of the caller's listens there (a server learns nothing about addresses that
 * are not its own, and is told not to serve: A36's "resource does not exist").
 *
 * One filter chain, as A36 requires of a gRPC server: an HttpConnectionManager with an inline
 * route configuration whose one route is `non_forwarding_action` (a server serves, it does not
 * forward), the RBAC filters of the endpoint's services (rbac-config.ts), then the router;
 * with a certificate provider, a DownstreamTlsContext that requires the client's certificate
 * and checks it against the provider's bundle.
 */
export function serverListenerOf(name: string, context: ServerListenerContext): ({ '@type': string } & Record<string, unknown>) | undefined {
  const address = serverListenerAddress(name);
  if (address === undefined) return undefined;
  const services = servicesAt(address, context.catalog, context.caller);
  if (services.length === 0) return undefined;
  const provider = context.certificateProvider;
  const manager: HttpConnectionManager & { '@type': string } = {
    '@type': HTTP_CONNECTION_MANAGER_TYPE,
    routeConfig: {
      name,
      virtualHosts: [{ name, domains: ['*'], routes: [{ match: { prefix: '' }, nonForwardingAction: {} }] }],
    },
    httpFilters: [
      ...(provider === undefined ? [] : rbacFilters(services, context.policies, context.trustDomain)),
      { name: 'envoy.filters.http.router', typedConfig: { '@type': ROUTER_TYPE } as never },
    ],
  };
  const tls = provider === undefined ? {} : {
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': DOWNSTREAM_TLS_TYPE,
        commonTlsContext: {
          tlsCertificateProviderInstance: { instanceName: provider },
          validationContext: { caCertificateProviderInstance: { instanceName: provider } },
        },
        requireClientCertificate: { value: true },
      } as never,
    },
  };
  const listener: Listener = {
    name,
    address: { socketAddress: { address: address.host, portValue: address.port } },
    filterChains: [{ name: 'causeway', filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: manager as never }], ...tls }],
  };
  return { '@type': TYPE_URLS.listener, ...listener };
}
