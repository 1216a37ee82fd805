import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** Type URLs of the four resource types (xDS protocol, "Resource types"). */
export const TYPE_URLS = Object.freeze({
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
});
export type ResourceKind = keyof typeof TYPE_URLS;
export const KIND_OF_TYPE_URL: ReadonlyMap<string, ResourceKind> = new Map(Object.entries(TYPE_URLS).map(([k, v]) => [v, k as ResourceKind]));

export const HTTP_CONNECTION_MANAGER_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
export const RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
export const DOWNSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';

/** The files whose messages travel inside `Any` (a DiscoveryResponse's resources and their typed configs). */
const PROTOS = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
];

let loaded: grpc.ServiceDefinition | undefined;

/**
 * The ADS service (envoy.service.discovery.v3.AggregatedDiscoveryService), from the Envoy API
 * protos @grpc/grpc-js-xds ships (the same files gateway/xds/generated is made from). Loaded
 * once, on first use: a gateway without xDS never parses them. Resources are written as
 * `{'@type': <type URL>, ...fields}`: protobufjs (under proto-loader) encodes such an object as
 * a google.protobuf.Any of that type, since every type named here is in the same root.
 */
export function adsService(): grpc.ServiceDefinition {
  if (loaded !== undefined) return loaded;
  const deps = path.join(path.dirname(createRequire(import.meta.url).resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  const definition = loadSync(PROTOS, {
    keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, json: true,
    includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(deps, d)),
  });
  const ads = grpc.loadPackageDefinition(definition) as unknown as {
    envoy: { service: { discovery: { v3: { AggregatedDiscoveryService: { service: grpc.ServiceDefinition } } } } };
  };
  loaded = ads.envoy.service.discovery.v3.AggregatedDiscoveryService.service;
  return loaded;
}
