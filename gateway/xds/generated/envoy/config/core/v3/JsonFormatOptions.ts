// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/substitution_format_string.proto


export interface JsonFormatOptions {
  'sortProperties'?: (boolean);
}

export interface JsonFormatOptions__Output {
  'sortProperties': (boolean);
}
