// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls.proto

import type { CommonTlsContext as _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext, CommonTlsContext__Output as _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/CommonTlsContext.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../../google/protobuf/BoolValue.js';
import type { TlsSessionTicketKeys as _envoy_extensions_transport_sockets_tls_v3_TlsSessionTicketKeys, TlsSessionTicketKeys__Output as _envoy_extensions_transport_sockets_tls_v3_TlsSessionTicketKeys__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/TlsSessionTicketKeys.js';
import type { SdsSecretConfig as _envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig, SdsSecretConfig__Output as _envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/SdsSecretConfig.js';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../../google/protobuf/Duration.js';

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls.proto

export const _envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext_OcspStaplePolicy = {
  LENIENT_STAPLING: 'LENIENT_STAPLING',
  STRICT_STAPLING: 'STRICT_STAPLING',
  MUST_STAPLE: 'MUST_STAPLE',
} as const;

export type _envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext_OcspStaplePolicy =
  | 'LENIENT_STAPLING'
  | 0
  | 'STRICT_STAPLING'
  | 1
  | 'MUST_STAPLE'
  | 2

export type _envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext_OcspStaplePolicy__Output = typeof _envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext_OcspStaplePolicy[keyof typeof _envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext_OcspStaplePolicy]

export interface DownstreamTlsContext {
  'commonTlsContext'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext | null);
  'requireClientCertificate'?: (_google_protobuf_BoolValue | null);
  'requireSni'?: (_google_protobuf_BoolValue | null);
  'sessionTicketKeys'?: (_envoy_extensions_transport_sockets_tls_v3_TlsSessionTicketKeys | null);
  'sessionTicketKeysSdsSecretConfig'?: (_envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig | null);
  'sessionTimeout'?: (_google_protobuf_Duration | null);
  'disableStatelessSessionResumption'?: (boolean);
  'ocspStaplePolicy'?: (_envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext_OcspStaplePolicy);
  'fullScanCertsOnSniMismatch'?: (_google_protobuf_BoolValue | null);
  'disableStatefulSessionResumption'?: (boolean);
  'sessionTicketKeysType'?: "sessionTicketKeys"|"sessionTicketKeysSdsSecretConfig"|"disableStatelessSessionResumption";
}

export interface DownstreamTlsContext__Output {
  'commonTlsContext': (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext__Output | null);
  'requireClientCertificate': (_google_protobuf_BoolValue__Output | null);
  'requireSni': (_google_protobuf_BoolValue__Output | null);
  'sessionTicketKeys'?: (_envoy_extensions_transport_sockets_tls_v3_TlsSessionTicketKeys__Output | null);
  'sessionTicketKeysSdsSecretConfig'?: (_envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig__Output | null);
  'sessionTimeout': (_google_protobuf_Duration__Output | null);
  'disableStatelessSessionResumption'?: (boolean);
  'ocspStaplePolicy': (_envoy_extensions_transport_sockets_tls_v3_DownstreamTlsContext_OcspStaplePolicy__Output);
  'fullScanCertsOnSniMismatch': (_google_protobuf_BoolValue__Output | null);
  'disableStatefulSessionResumption': (boolean);
  'sessionTicketKeysType'?: "sessionTicketKeys"|"sessionTicketKeysSdsSecretConfig"|"disableStatelessSessionResumption";
}
