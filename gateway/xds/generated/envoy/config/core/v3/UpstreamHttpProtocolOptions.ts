// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/protocol.proto


export interface UpstreamHttpProtocolOptions {
  'autoSni'?: (boolean);
  'autoSanValidation'?: (boolean);
  'overrideAutoSniHeader'?: (string);
}

export interface UpstreamHttpProtocolOptions__Output {
  'autoSni': (boolean);
  'autoSanValidation': (boolean);
  'overrideAutoSniHeader': (string);
}
