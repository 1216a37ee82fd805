// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/resolver.proto


export interface DnsResolverOptions {
  'useTcpForDnsLookups'?: (boolean);
  'noDefaultSearchDomain'?: (boolean);
}

export interface DnsResolverOptions__Output {
  'useTcpForDnsLookups': (boolean);
  'noDefaultSearchDomain': (boolean);
}
