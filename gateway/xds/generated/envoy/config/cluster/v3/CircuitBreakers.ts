// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/circuit_breaker.proto

import type { RoutingPriority as _envoy_config_core_v3_RoutingPriority, RoutingPriority__Output as _envoy_config_core_v3_RoutingPriority__Output } from '../../../../envoy/config/core/v3/RoutingPriority.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { Percent as _envoy_type_v3_Percent, Percent__Output as _envoy_type_v3_Percent__Output } from '../../../../envoy/type/v3/Percent.js';

export interface _envoy_config_cluster_v3_CircuitBreakers_Thresholds_RetryBudget {
  'budgetPercent'?: (_envoy_type_v3_Percent | null);
  'minRetryConcurrency'?: (_google_protobuf_UInt32Value | null);
}

export interface _envoy_config_cluster_v3_CircuitBreakers_Thresholds_RetryBudget__Output {
  'budgetPercent': (_envoy_type_v3_Percent__Output | null);
  'minRetryConcurrency': (_google_protobuf_UInt32Value__Output | null);
}

export interface _envoy_config_cluster_v3_CircuitBreakers_Thresholds {
  'priority'?: (_envoy_config_core_v3_RoutingPriority);
  'maxConnections'?: (_google_protobuf_UInt32Value | null);
  'maxPendingRequests'?: (_google_protobuf_UInt32Value | null);
  'maxRequests'?: (_google_protobuf_UInt32Value | null);
  'maxRetries'?: (_google_protobuf_UInt32Value | null);
  'retryBudget'?: (_envoy_config_cluster_v3_CircuitBreakers_Thresholds_RetryBudget | null);
  'trackRemaining'?: (boolean);
  'maxConnectionPools'?: (_google_protobuf_UInt32Value | null);
}

export interface _envoy_config_cluster_v3_CircuitBreakers_Thresholds__Output {
  'priority': (_envoy_config_core_v3_RoutingPriority__Output);
  'maxConnections': (_google_protobuf_UInt32Value__Output | null);
  'maxPendingRequests': (_google_protobuf_UInt32Value__Output | null);
  'maxRequests': (_google_protobuf_UInt32Value__Output | null);
  'maxRetries': (_google_protobuf_UInt32Value__Output | null);
  'retryBudget': (_envoy_config_cluster_v3_CircuitBreakers_Thresholds_RetryBudget__Output | null);
  'trackRemaining': (boolean);
  'maxConnectionPools': (_google_protobuf_UInt32Value__Output | null);
}

export interface CircuitBreakers {
  'thresholds'?: (_envoy_config_cluster_v3_CircuitBreakers_Thresholds)[];
  'perHostThresholds'?: (_envoy_config_cluster_v3_CircuitBreakers_Thresholds)[];
}

export interface CircuitBreakers__Output {
  'thresholds': (_envoy_config_cluster_v3_CircuitBreakers_Thresholds__Output)[];
  'perHostThresholds': (_envoy_config_cluster_v3_CircuitBreakers_Thresholds__Output)[];
}
