// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/listener/v3/quic_config.proto

import type { QuicProtocolOptions as _envoy_config_core_v3_QuicProtocolOptions, QuicProtocolOptions__Output as _envoy_config_core_v3_QuicProtocolOptions__Output } from '../../../../envoy/config/core/v3/QuicProtocolOptions.js';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.js';
import type { RuntimeFeatureFlag as _envoy_config_core_v3_RuntimeFeatureFlag, RuntimeFeatureFlag__Output as _envoy_config_core_v3_RuntimeFeatureFlag__Output } from '../../../../envoy/config/core/v3/RuntimeFeatureFlag.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../envoy/config/core/v3/TypedExtensionConfig.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';

export interface QuicProtocolOptions {
  'quicProtocolOptions'?: (_envoy_config_core_v3_QuicProtocolOptions | null);
  'idleTimeout'?: (_google_protobuf_Duration | null);
  'cryptoHandshakeTimeout'?: (_google_protobuf_Duration | null);
  'enabled'?: (_envoy_config_core_v3_RuntimeFeatureFlag | null);
  'packetsToReadToConnectionCountRatio'?: (_google_protobuf_UInt32Value | null);
  'cryptoStreamConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'proofSourceConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'connectionIdGeneratorConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'serverPreferredAddressConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'sendDisableActiveMigration'?: (_google_protobuf_BoolValue | null);
  'connectionDebugVisitorConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
}

export interface QuicProtocolOptions__Output {
  'quicProtocolOptions': (_envoy_config_core_v3_QuicProtocolOptions__Output | null);
  'idleTimeout': (_google_protobuf_Duration__Output | null);
  'cryptoHandshakeTimeout': (_google_protobuf_Duration__Output | null);
  'enabled': (_envoy_config_core_v3_RuntimeFeatureFlag__Output | null);
  'packetsToReadToConnectionCountRatio': (_google_protobuf_UInt32Value__Output | null);
  'cryptoStreamConfig': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'proofSourceConfig': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'connectionIdGeneratorConfig': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'serverPreferredAddressConfig': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'sendDisableActiveMigration': (_google_protobuf_BoolValue__Output | null);
  'connectionDebugVisitorConfig': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
}
