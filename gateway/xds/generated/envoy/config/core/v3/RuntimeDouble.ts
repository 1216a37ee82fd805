// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/base.proto


export interface RuntimeDouble {
  'defaultValue'?: (number | string);
  'runtimeKey'?: (string);
}

export interface RuntimeDouble__Output {
  'defaultValue': (number);
  'runtimeKey': (string);
}
