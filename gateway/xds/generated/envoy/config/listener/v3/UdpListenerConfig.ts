// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/listener/v3/udp_listener_config.proto

import type { UdpSocketConfig as _envoy_config_core_v3_UdpSocketConfig, UdpSocketConfig__Output as _envoy_config_core_v3_UdpSocketConfig__Output } from '../../../../envoy/config/core/v3/UdpSocketConfig.js';
import type { QuicProtocolOptions as _envoy_config_listener_v3_QuicProtocolOptions, QuicProtocolOptions__Output as _envoy_config_listener_v3_QuicProtocolOptions__Output } from '../../../../envoy/config/listener/v3/QuicProtocolOptions.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../envoy/config/core/v3/TypedExtensionConfig.js';

export interface UdpListenerConfig {
  'downstreamSocketConfig'?: (_envoy_config_core_v3_UdpSocketConfig | null);
  'quicOptions'?: (_envoy_config_listener_v3_QuicProtocolOptions | null);
  'udpPacketPacketWriterConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
}

export interface UdpListenerConfig__Output {
  'downstreamSocketConfig': (_envoy_config_core_v3_UdpSocketConfig__Output | null);
  'quicOptions': (_envoy_config_listener_v3_QuicProtocolOptions__Output | null);
  'udpPacketPacketWriterConfig': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
}
