// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/protocol.proto

import type { QuicProtocolOptions as _envoy_config_core_v3_QuicProtocolOptions, QuicProtocolOptions__Output as _envoy_config_core_v3_QuicProtocolOptions__Output } from '../../../../envoy/config/core/v3/QuicProtocolOptions.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';

export interface Http3ProtocolOptions {
  'quicProtocolOptions'?: (_envoy_config_core_v3_QuicProtocolOptions | null);
  'overrideStreamErrorOnInvalidHttpMessage'?: (_google_protobuf_BoolValue | null);
  'allowExtendedConnect'?: (boolean);
  'allowMetadata'?: (boolean);
}

export interface Http3ProtocolOptions__Output {
  'quicProtocolOptions': (_envoy_config_core_v3_QuicProtocolOptions__Output | null);
  'overrideStreamErrorOnInvalidHttpMessage': (_google_protobuf_BoolValue__Output | null);
  'allowExtendedConnect': (boolean);
  'allowMetadata': (boolean);
}
