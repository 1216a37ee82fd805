// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/outlier_detection.proto

import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../envoy/config/core/v3/TypedExtensionConfig.js';

export interface OutlierDetection {
  'consecutive_5xx'?: (_google_protobuf_UInt32Value | null);
  'interval'?: (_google_protobuf_Duration | null);
  'baseEjectionTime'?: (_google_protobuf_Duration | null);
  'maxEjectionPercent'?: (_google_protobuf_UInt32Value | null);
  'enforcingConsecutive_5xx'?: (_google_protobuf_UInt32Value | null);
  'enforcingSuccessRate'?: (_google_protobuf_UInt32Value | null);
  'successRateMinimumHosts'?: (_google_protobuf_UInt32Value | null);
  'successRateRequestVolume'?: (_google_protobuf_UInt32Value | null);
  'successRateStdevFactor'?: (_google_protobuf_UInt32Value | null);
  'consecutiveGatewayFailure'?: (_google_protobuf_UInt32Value | null);
  'enforcingConsecutiveGatewayFailure'?: (_google_protobuf_UInt32Value | null);
  'splitExternalLocalOriginErrors'?: (boolean);
  'consecutiveLocalOriginFailure'?: (_google_protobuf_UInt32Value | null);
  'enforcingConsecutiveLocalOriginFailure'?: (_google_protobuf_UInt32Value | null);
  'enforcingLocalOriginSuccessRate'?: (_google_protobuf_UInt32Value | null);
  'failurePercentageThreshold'?: (_google_protobuf_UInt32Value | null);
  'enforcingFailurePercentage'?: (_google_protobuf_UInt32Value | null);
  'enforcingFailurePercentageLocalOrigin'?: (_google_protobuf_UInt32Value | null);
  'failurePercentageMinimumHosts'?: (_google_protobuf_UInt32Value | null);
  'failurePercentageRequestVolume'?: (_google_protobuf_UInt32Value | null);
  'maxEjectionTime'?: (_google_protobuf_Duration | null);
  'maxEjectionTimeJitter'?: (_google_protobuf_Duration | null);
  'successfulActiveHealthCheckUnejectHost'?: (_google_protobuf_BoolValue | null);
  'monitors'?: (_envoy_config_core_v3_TypedExtensionConfig)[];
  'alwaysEjectOneHost'?: (_google_protobuf_BoolValue | null);
}

export interface OutlierDetection__Output {
  'consecutive_5xx': (_google_protobuf_UInt32Value__Output | null);
  'interval': (_google_protobuf_Duration__Output | null);
  'baseEjectionTime': (_google_protobuf_Duration__Output | null);
  'maxEjectionPercent': (_google_protobuf_UInt32Value__Output | null);
  'enforcingConsecutive_5xx': (_google_protobuf_UInt32Value__Output | null);
  'enforcingSuccessRate': (_google_protobuf_UInt32Value__Output | null);
  'successRateMinimumHosts': (_google_protobuf_UInt32Value__Output | null);
  'successRateRequestVolume': (_google_protobuf_UInt32Value__Output | null);
  'successRateStdevFactor': (_google_protobuf_UInt32Value__Output | null);
  'consecutiveGatewayFailure': (_google_protobuf_UInt32Value__Output | null);
  'enforcingConsecutiveGatewayFailure': (_google_protobuf_UInt32Value__Output | null);
  'splitExternalLocalOriginErrors': (boolean);
  'consecutiveLocalOriginFailure': (_google_protobuf_UInt32Value__Output | null);
  'enforcingConsecutiveLocalOriginFailure': (_google_protobuf_UInt32Value__Output | null);
  'enforcingLocalOriginSuccessRate': (_google_protobuf_UInt32Value__Output | null);
  'failurePercentageThreshold': (_google_protobuf_UInt32Value__Output | null);
  'enforcingFailurePercentage': (_google_protobuf_UInt32Value__Output | null);
  'enforcingFailurePercentageLocalOrigin': (_google_protobuf_UInt32Value__Output | null);
  'failurePercentageMinimumHosts': (_google_protobuf_UInt32Value__Output | null);
  'failurePercentageRequestVolume': (_google_protobuf_UInt32Value__Output | null);
  'maxEjectionTime': (_google_protobuf_Duration__Output | null);
  'maxEjectionTimeJitter': (_google_protobuf_Duration__Output | null);
  'successfulActiveHealthCheckUnejectHost': (_google_protobuf_BoolValue__Output | null);
  'monitors': (_envoy_config_core_v3_TypedExtensionConfig__Output)[];
  'alwaysEjectOneHost': (_google_protobuf_BoolValue__Output | null);
}
