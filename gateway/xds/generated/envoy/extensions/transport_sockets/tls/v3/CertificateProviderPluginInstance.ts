// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/transport_sockets/tls/v3/common.proto


export interface CertificateProviderPluginInstance {
  'instanceName'?: (string);
  'certificateName'?: (string);
}

export interface CertificateProviderPluginInstance__Output {
  'instanceName': (string);
  'certificateName': (string);
}
