// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls.proto

import type { CommonTlsContext as _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext, CommonTlsContext__Output as _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/CommonTlsContext.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../../google/protobuf/UInt32Value.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../../google/protobuf/BoolValue.js';

export interface UpstreamTlsContext {
  'commonTlsContext'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext | null);
  'sni'?: (string);
  'allowRenegotiation'?: (boolean);
  'maxSessionKeys'?: (_google_protobuf_UInt32Value | null);
  'enforceRsaKeyUsage'?: (_google_protobuf_BoolValue | null);
}

export interface UpstreamTlsContext__Output {
  'commonTlsContext': (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext__Output | null);
  'sni': (string);
  'allowRenegotiation': (boolean);
  'maxSessionKeys': (_google_protobuf_UInt32Value__Output | null);
  'enforceRsaKeyUsage': (_google_protobuf_BoolValue__Output | null);
}
