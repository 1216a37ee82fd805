// Original file: node_modules/@grpc/grpc-js-xds/deps/xds/udpa/annotations/security.proto


export interface FieldSecurityAnnotation {
  'configureForUntrustedDownstream'?: (boolean);
  'configureForUntrustedUpstream'?: (boolean);
}

export interface FieldSecurityAnnotation__Output {
  'configureForUntrustedDownstream': (boolean);
  'configureForUntrustedUpstream': (boolean);
}
