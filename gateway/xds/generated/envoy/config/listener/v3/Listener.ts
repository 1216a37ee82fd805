// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/listener/v3/listener.proto

import type { Address as _envoy_config_core_v3_Address, Address__Output as _envoy_config_core_v3_Address__Output } from '../../../../envoy/config/core/v3/Address.js';
import type { FilterChain as _envoy_config_listener_v3_FilterChain, FilterChain__Output as _envoy_config_listener_v3_FilterChain__Output } from '../../../../envoy/config/listener/v3/FilterChain.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { Metadata as _envoy_config_core_v3_Metadata, Metadata__Output as _envoy_config_core_v3_Metadata__Output } from '../../../../envoy/config/core/v3/Metadata.js';
import type { ListenerFilter as _envoy_config_listener_v3_ListenerFilter, ListenerFilter__Output as _envoy_config_listener_v3_ListenerFilter__Output } from '../../../../envoy/config/listener/v3/ListenerFilter.js';
import type { SocketOption as _envoy_config_core_v3_SocketOption, SocketOption__Output as _envoy_config_core_v3_SocketOption__Output } from '../../../../envoy/config/core/v3/SocketOption.js';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.js';
import type { TrafficDirection as _envoy_config_core_v3_TrafficDirection, TrafficDirection__Output as _envoy_config_core_v3_TrafficDirection__Output } from '../../../../envoy/config/core/v3/TrafficDirection.js';
import type { UdpListenerConfig as _envoy_config_listener_v3_UdpListenerConfig, UdpListenerConfig__Output as _envoy_config_listener_v3_UdpListenerConfig__Output } from '../../../../envoy/config/listener/v3/UdpListenerConfig.js';
import type { ApiListener as _envoy_config_listener_v3_ApiListener, ApiListener__Output as _envoy_config_listener_v3_ApiListener__Output } from '../../../../envoy/config/listener/v3/ApiListener.js';
import type { AccessLog as _envoy_config_accesslog_v3_AccessLog, AccessLog__Output as _envoy_config_accesslog_v3_AccessLog__Output } from '../../../../envoy/config/accesslog/v3/AccessLog.js';
import type { Matcher as _xds_type_matcher_v3_Matcher, Matcher__Output as _xds_type_matcher_v3_Matcher__Output } from '../../../../xds/type/matcher/v3/Matcher.js';
import type { AdditionalAddress as _envoy_config_listener_v3_AdditionalAddress, AdditionalAddress__Output as _envoy_config_listener_v3_AdditionalAddress__Output } from '../../../../envoy/config/listener/v3/AdditionalAddress.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../envoy/config/core/v3/TypedExtensionConfig.js';

export interface _envoy_config_listener_v3_Listener_ConnectionBalanceConfig {
  'exactBalance'?: (_envoy_config_listener_v3_Listener_ConnectionBalanceConfig_ExactBalance | null);
  'extendBalance'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'balanceType'?: "exactBalance"|"extendBalance";
}

export interface _envoy_config_listener_v3_Listener_ConnectionBalanceConfig__Output {
  'exactBalance'?: (_envoy_config_listener_v3_Listener_ConnectionBalanceConfig_ExactBalance__Output | null);
  'extendBalance'?: (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'balanceType'?: "exactBalance"|"extendBalance";
}

export interface _envoy_config_listener_v3_Listener_DeprecatedV1 {
  'bindToPort'?: (_google_protobuf_BoolValue | null);
}

export interface _envoy_config_listener_v3_Listener_DeprecatedV1__Output {
  'bindToPort': (_google_protobuf_BoolValue__Output | null);
}

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/listener/v3/listener.proto

export const _envoy_config_listener_v3_Listener_DrainType = {
  DEFAULT: 'DEFAULT',
  MODIFY_ONLY: 'MODIFY_ONLY',
} as const;

export type _envoy_config_listener_v3_Listener_DrainType =
  | 'DEFAULT'
  | 0
  | 'MODIFY_ONLY'
  | 1

export type _envoy_config_listener_v3_Listener_DrainType__Output = typeof _envoy_config_listener_v3_Listener_DrainType[keyof typeof _envoy_config_listener_v3_Listener_DrainType]

export interface _envoy_config_listener_v3_Listener_ConnectionBalanceConfig_ExactBalance {
}

export interface _envoy_config_listener_v3_Listener_ConnectionBalanceConfig_ExactBalance__Output {
}

export interface _envoy_config_listener_v3_Listener_InternalListenerConfig {
}

export interface _envoy_config_listener_v3_Listener_InternalListenerConfig__Output {
}

export interface Listener {
  'name'?: (string);
  'address'?: (_envoy_config_core_v3_Address | null);
  'filterChains'?: (_envoy_config_listener_v3_FilterChain)[];
  'useOriginalDst'?: (_google_protobuf_BoolValue | null);
  'perConnectionBufferLimitBytes'?: (_google_protobuf_UInt32Value | null);
  'metadata'?: (_envoy_config_core_v3_Metadata | null);
  'deprecatedV1'?: (_envoy_config_listener_v3_Listener_DeprecatedV1 | null);
  'drainType'?: (_envoy_config_listener_v3_Listener_DrainType);
  'listenerFilters'?: (_envoy_config_listener_v3_ListenerFilter)[];
  'transparent'?: (_google_protobuf_BoolValue | null);
  'freebind'?: (_google_protobuf_BoolValue | null);
  'tcpFastOpenQueueLength'?: (_google_protobuf_UInt32Value | null);
  'socketOptions'?: (_envoy_config_core_v3_SocketOption)[];
  'listenerFiltersTimeout'?: (_google_protobuf_Duration | null);
  'trafficDirection'?: (_envoy_config_core_v3_TrafficDirection);
  'continueOnListenerFiltersTimeout'?: (boolean);
  'udpListenerConfig'?: (_envoy_config_listener_v3_UdpListenerConfig | null);
  'apiListener'?: (_envoy_config_listener_v3_ApiListener | null);
  'connectionBalanceConfig'?: (_envoy_config_listener_v3_Listener_ConnectionBalanceConfig | null);
  'reusePort'?: (boolean);
  'accessLog'?: (_envoy_config_accesslog_v3_AccessLog)[];
  'tcpBacklogSize'?: (_google_protobuf_UInt32Value | null);
  'defaultFilterChain'?: (_envoy_config_listener_v3_FilterChain | null);
  'bindToPort'?: (_google_protobuf_BoolValue | null);
  'internalListener'?: (_envoy_config_listener_v3_Listener_InternalListenerConfig | null);
  'statPrefix'?: (string);
  'enableReusePort'?: (_google_protobuf_BoolValue | null);
  'enableMptcp'?: (boolean);
  'ignoreGlobalConnLimit'?: (boolean);
  'filterChainMatcher'?: (_xds_type_matcher_v3_Matcher | null);
  'additionalAddresses'?: (_envoy_config_listener_v3_AdditionalAddress)[];
  'maxConnectionsToAcceptPerSocketEvent'?: (_google_protobuf_UInt32Value | null);
  'bypassOverloadManager'?: (boolean);
  'listenerSpecifier'?: "internalListener";
}

export interface Listener__Output {
  'name': (string);
  'address': (_envoy_config_core_v3_Address__Output | null);
  'filterChains': (_envoy_config_listener_v3_FilterChain__Output)[];
  'useOriginalDst': (_google_protobuf_BoolValue__Output | null);
  'perConnectionBufferLimitBytes': (_google_protobuf_UInt32Value__Output | null);
  'metadata': (_envoy_config_core_v3_Metadata__Output | null);
  'deprecatedV1': (_envoy_config_listener_v3_Listener_DeprecatedV1__Output | null);
  'drainType': (_envoy_config_listener_v3_Listener_DrainType__Output);
  'listenerFilters': (_envoy_config_listener_v3_ListenerFilter__Output)[];
  'transparent': (_google_protobuf_BoolValue__Output | null);
  'freebind': (_google_protobuf_BoolValue__Output | null);
  'tcpFastOpenQueueLength': (_google_protobuf_UInt32Value__Output | null);
  'socketOptions': (_envoy_config_core_v3_SocketOption__Output)[];
  'listenerFiltersTimeout': (_google_protobuf_Duration__Output | null);
  'trafficDirection': (_envoy_config_core_v3_TrafficDirection__Output);
  'continueOnListenerFiltersTimeout': (boolean);
  'udpListenerConfig': (_envoy_config_listener_v3_UdpListenerConfig__Output | null);
  'apiListener': (_envoy_config_listener_v3_ApiListener__Output | null);
  'connectionBalanceConfig': (_envoy_config_listener_v3_Listener_ConnectionBalanceConfig__Output | null);
  'reusePort': (boolean);
  'accessLog': (_envoy_config_accesslog_v3_AccessLog__Output)[];
  'tcpBacklogSize': (_google_protobuf_UInt32Value__Output | null);
  'defaultFilterChain': (_envoy_config_listener_v3_FilterChain__Output | null);
  'bindToPort': (_google_protobuf_BoolValue__Output | null);
  'internalListener'?: (_envoy_config_listener_v3_Listener_InternalListenerConfig__Output | null);
  'statPrefix': (string);
  'enableReusePort': (_google_protobuf_BoolValue__Output | null);
  'enableMptcp': (boolean);
  'ignoreGlobalConnLimit': (boolean);
  'filterChainMatcher': (_xds_type_matcher_v3_Matcher__Output | null);
  'additionalAddresses': (_envoy_config_listener_v3_AdditionalAddress__Output)[];
  'maxConnectionsToAcceptPerSocketEvent': (_google_protobuf_UInt32Value__Output | null);
  'bypassOverloadManager': (boolean);
  'listenerSpecifier'?: "internalListener";
}
