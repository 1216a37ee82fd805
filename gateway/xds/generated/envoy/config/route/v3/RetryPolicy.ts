// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/route/v3/route_components.proto

import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.js';
import type { HeaderMatcher as _envoy_config_route_v3_HeaderMatcher, HeaderMatcher__Output as _envoy_config_route_v3_HeaderMatcher__Output } from '../../../../envoy/config/route/v3/HeaderMatcher.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../envoy/config/core/v3/TypedExtensionConfig.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any.js';
import type { Long } from '@grpc/proto-loader';

export interface _envoy_config_route_v3_RetryPolicy_RateLimitedRetryBackOff {
  'resetHeaders'?: (_envoy_config_route_v3_RetryPolicy_ResetHeader)[];
  'maxInterval'?: (_google_protobuf_Duration | null);
}

export interface _envoy_config_route_v3_RetryPolicy_RateLimitedRetryBackOff__Output {
  'resetHeaders': (_envoy_config_route_v3_RetryPolicy_ResetHeader__Output)[];
  'maxInterval': (_google_protobuf_Duration__Output | null);
}

export interface _envoy_config_route_v3_RetryPolicy_ResetHeader {
  'name'?: (string);
  'format'?: (_envoy_config_route_v3_RetryPolicy_ResetHeaderFormat);
}

export interface _envoy_config_route_v3_RetryPolicy_ResetHeader__Output {
  'name': (string);
  'format': (_envoy_config_route_v3_RetryPolicy_ResetHeaderFormat__Output);
}

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/route/v3/route_components.proto

export const _envoy_config_route_v3_RetryPolicy_ResetHeaderFormat = {
  SECONDS: 'SECONDS',
  UNIX_TIMESTAMP: 'UNIX_TIMESTAMP',
} as const;

export type _envoy_config_route_v3_RetryPolicy_ResetHeaderFormat =
  | 'SECONDS'
  | 0
  | 'UNIX_TIMESTAMP'
  | 1

export type _envoy_config_route_v3_RetryPolicy_ResetHeaderFormat__Output = typeof _envoy_config_route_v3_RetryPolicy_ResetHeaderFormat[keyof typeof _envoy_config_route_v3_RetryPolicy_ResetHeaderFormat]

export interface _envoy_config_route_v3_RetryPolicy_RetryBackOff {
  'baseInterval'?: (_google_protobuf_Duration | null);
  'maxInterval'?: (_google_protobuf_Duration | null);
}

export interface _envoy_config_route_v3_RetryPolicy_RetryBackOff__Output {
  'baseInterval': (_google_protobuf_Duration__Output | null);
  'maxInterval': (_google_protobuf_Duration__Output | null);
}

export interface _envoy_config_route_v3_RetryPolicy_RetryHostPredicate {
  'name'?: (string);
  'typedConfig'?: (_google_protobuf_Any | null);
  'configType'?: "typedConfig";
}

export interface _envoy_config_route_v3_RetryPolicy_RetryHostPredicate__Output {
  'name': (string);
  'typedConfig'?: (_google_protobuf_Any__Output | null);
  'configType'?: "typedConfig";
}

export interface _envoy_config_route_v3_RetryPolicy_RetryPriority {
  'name'?: (string);
  'typedConfig'?: (_google_protobuf_Any | null);
  'configType'?: "typedConfig";
}

export interface _envoy_config_route_v3_RetryPolicy_RetryPriority__Output {
  'name': (string);
  'typedConfig'?: (_google_protobuf_Any__Output | null);
  'configType'?: "typedConfig";
}

export interface RetryPolicy {
  'retryOn'?: (string);
  'numRetries'?: (_google_protobuf_UInt32Value | null);
  'perTryTimeout'?: (_google_protobuf_Duration | null);
  'retryPriority'?: (_envoy_config_route_v3_RetryPolicy_RetryPriority | null);
  'retryHostPredicate'?: (_envoy_config_route_v3_RetryPolicy_RetryHostPredicate)[];
  'hostSelectionRetryMaxAttempts'?: (number | string | Long);
  'retriableStatusCodes'?: (number)[];
  'retryBackOff'?: (_envoy_config_route_v3_RetryPolicy_RetryBackOff | null);
  'retriableHeaders'?: (_envoy_config_route_v3_HeaderMatcher)[];
  'retriableRequestHeaders'?: (_envoy_config_route_v3_HeaderMatcher)[];
  'rateLimitedRetryBackOff'?: (_envoy_config_route_v3_RetryPolicy_RateLimitedRetryBackOff | null);
  'retryOptionsPredicates'?: (_envoy_config_core_v3_TypedExtensionConfig)[];
  'perTryIdleTimeout'?: (_google_protobuf_Duration | null);
}

export interface RetryPolicy__Output {
  'retryOn': (string);
  'numRetries': (_google_protobuf_UInt32Value__Output | null);
  'perTryTimeout': (_google_protobuf_Duration__Output | null);
  'retryPriority': (_envoy_config_route_v3_RetryPolicy_RetryPriority__Output | null);
  'retryHostPredicate': (_envoy_config_route_v3_RetryPolicy_RetryHostPredicate__Output)[];
  'hostSelectionRetryMaxAttempts': (string);
  'retriableStatusCodes': (number)[];
  'retryBackOff': (_envoy_config_route_v3_RetryPolicy_RetryBackOff__Output | null);
  'retriableHeaders': (_envoy_config_route_v3_HeaderMatcher__Output)[];
  'retriableRequestHeaders': (_envoy_config_route_v3_HeaderMatcher__Output)[];
  'rateLimitedRetryBackOff': (_envoy_config_route_v3_RetryPolicy_RateLimitedRetryBackOff__Output | null);
  'retryOptionsPredicates': (_envoy_config_core_v3_TypedExtensionConfig__Output)[];
  'perTryIdleTimeout': (_google_protobuf_Duration__Output | null);
}
