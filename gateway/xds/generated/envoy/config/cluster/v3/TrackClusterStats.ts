// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto


export interface TrackClusterStats {
  'timeoutBudgets'?: (boolean);
  'requestResponseSizes'?: (boolean);
  'perEndpointStats'?: (boolean);
}

export interface TrackClusterStats__Output {
  'timeoutBudgets': (boolean);
  'requestResponseSizes': (boolean);
  'perEndpointStats': (boolean);
}
