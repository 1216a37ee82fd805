// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/health_check.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';
import type { EventServiceConfig as _envoy_config_core_v3_EventServiceConfig, EventServiceConfig__Output as _envoy_config_core_v3_EventServiceConfig__Output } from '../../../../envoy/config/core/v3/EventServiceConfig.js';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../envoy/config/core/v3/TypedExtensionConfig.js';
import type { UInt64Value as _google_protobuf_UInt64Value, UInt64Value__Output as _google_protobuf_UInt64Value__Output } from '../../../../google/protobuf/UInt64Value.js';
import type { HeaderValueOption as _envoy_config_core_v3_HeaderValueOption, HeaderValueOption__Output as _envoy_config_core_v3_HeaderValueOption__Output } from '../../../../envoy/config/core/v3/HeaderValueOption.js';
import type { Int64Range as _envoy_type_v3_Int64Range, Int64Range__Output as _envoy_type_v3_Int64Range__Output } from '../../../../envoy/type/v3/Int64Range.js';
import type { CodecClientType as _envoy_type_v3_CodecClientType, CodecClientType__Output as _envoy_type_v3_CodecClientType__Output } from '../../../../envoy/type/v3/CodecClientType.js';
import type { StringMatcher as _envoy_type_matcher_v3_StringMatcher, StringMatcher__Output as _envoy_type_matcher_v3_StringMatcher__Output } from '../../../../envoy/type/matcher/v3/StringMatcher.js';
import type { RequestMethod as _envoy_config_core_v3_RequestMethod, RequestMethod__Output as _envoy_config_core_v3_RequestMethod__Output } from '../../../../envoy/config/core/v3/RequestMethod.js';
import type { ProxyProtocolConfig as _envoy_config_core_v3_ProxyProtocolConfig, ProxyProtocolConfig__Output as _envoy_config_core_v3_ProxyProtocolConfig__Output } from '../../../../envoy/config/core/v3/ProxyProtocolConfig.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any.js';

export interface _envoy_config_core_v3_HealthCheck_CustomHealthCheck {
  'name'?: (string);
  'typedConfig'?: (_google_protobuf_Any | null);
  'configType'?: "typedConfig";
}

export interface _envoy_config_core_v3_HealthCheck_CustomHealthCheck__Output {
  'name': (string);
  'typedConfig'?: (_google_protobuf_Any__Output | null);
  'configType'?: "typedConfig";
}

export interface _envoy_config_core_v3_HealthCheck_GrpcHealthCheck {
  'serviceName'?: (string);
  'authority'?: (string);
  'initialMetadata'?: (_envoy_config_core_v3_HeaderValueOption)[];
}

export interface _envoy_config_core_v3_HealthCheck_GrpcHealthCheck__Output {
  'serviceName': (string);
  'authority': (string);
  'initialMetadata': (_envoy_config_core_v3_HeaderValueOption__Output)[];
}

export interface _envoy_config_core_v3_HealthCheck_HttpHealthCheck {
  'host'?: (string);
  'path'?: (string);
  'send'?: (_envoy_config_core_v3_HealthCheck_Payload | null);
  'receive'?: (_envoy_config_core_v3_HealthCheck_Payload)[];
  'responseBufferSize'?: (_google_protobuf_UInt64Value | null);
  'requestHeadersToAdd'?: (_envoy_config_core_v3_HeaderValueOption)[];
  'requestHeadersToRemove'?: (string)[];
  'expectedStatuses'?: (_envoy_type_v3_Int64Range)[];
  'retriableStatuses'?: (_envoy_type_v3_Int64Range)[];
  'codecClientType'?: (_envoy_type_v3_CodecClientType);
  'serviceNameMatcher'?: (_envoy_type_matcher_v3_StringMatcher | null);
  'method'?: (_envoy_config_core_v3_RequestMethod);
}

export interface _envoy_config_core_v3_HealthCheck_HttpHealthCheck__Output {
  'host': (string);
  'path': (string);
  'send': (_envoy_config_core_v3_HealthCheck_Payload__Output | null);
  'receive': (_envoy_config_core_v3_HealthCheck_Payload__Output)[];
  'responseBufferSize': (_google_protobuf_UInt64Value__Output | null);
  'requestHeadersToAdd': (_envoy_config_core_v3_HeaderValueOption__Output)[];
  'requestHeadersToRemove': (string)[];
  'expectedStatuses': (_envoy_type_v3_Int64Range__Output)[];
  'retriableStatuses': (_envoy_type_v3_Int64Range__Output)[];
  'codecClientType': (_envoy_type_v3_CodecClientType__Output);
  'serviceNameMatcher': (_envoy_type_matcher_v3_StringMatcher__Output | null);
  'method': (_envoy_config_core_v3_RequestMethod__Output);
}

export interface _envoy_config_core_v3_HealthCheck_Payload {
  'text'?: (string);
  'binary'?: (Buffer | Uint8Array | string);
  'payload'?: "text"|"binary";
}

export interface _envoy_config_core_v3_HealthCheck_Payload__Output {
  'text'?: (string);
  'binary'?: (Buffer);
  'payload'?: "text"|"binary";
}

export interface _envoy_config_core_v3_HealthCheck_RedisHealthCheck {
  'key'?: (string);
}

export interface _envoy_config_core_v3_HealthCheck_RedisHealthCheck__Output {
  'key': (string);
}

export interface _envoy_config_core_v3_HealthCheck_TcpHealthCheck {
  'send'?: (_envoy_config_core_v3_HealthCheck_Payload | null);
  'receive'?: (_envoy_config_core_v3_HealthCheck_Payload)[];
  'proxyProtocolConfig'?: (_envoy_config_core_v3_ProxyProtocolConfig | null);
}

export interface _envoy_config_core_v3_HealthCheck_TcpHealthCheck__Output {
  'send': (_envoy_config_core_v3_HealthCheck_Payload__Output | null);
  'receive': (_envoy_config_core_v3_HealthCheck_Payload__Output)[];
  'proxyProtocolConfig': (_envoy_config_core_v3_ProxyProtocolConfig__Output | null);
}

export interface _envoy_config_core_v3_HealthCheck_TlsOptions {
  'alpnProtocols'?: (string)[];
}

export interface _envoy_config_core_v3_HealthCheck_TlsOptions__Output {
  'alpnProtocols': (string)[];
}

export interface HealthCheck {
  'timeout'?: (_google_protobuf_Duration | null);
  'interval'?: (_google_protobuf_Duration | null);
  'intervalJitter'?: (_google_protobuf_Duration | null);
  'unhealthyThreshold'?: (_google_protobuf_UInt32Value | null);
  'healthyThreshold'?: (_google_protobuf_UInt32Value | null);
  'altPort'?: (_google_protobuf_UInt32Value | null);
  'reuseConnection'?: (_google_protobuf_BoolValue | null);
  'httpHealthCheck'?: (_envoy_config_core_v3_HealthCheck_HttpHealthCheck | null);
  'tcpHealthCheck'?: (_envoy_config_core_v3_HealthCheck_TcpHealthCheck | null);
  'grpcHealthCheck'?: (_envoy_config_core_v3_HealthCheck_GrpcHealthCheck | null);
  'noTrafficInterval'?: (_google_protobuf_Duration | null);
  'customHealthCheck'?: (_envoy_config_core_v3_HealthCheck_CustomHealthCheck | null);
  'unhealthyInterval'?: (_google_protobuf_Duration | null);
  'unhealthyEdgeInterval'?: (_google_protobuf_Duration | null);
  'healthyEdgeInterval'?: (_google_protobuf_Duration | null);
  'eventLogPath'?: (string);
  'intervalJitterPercent'?: (number);
  'alwaysLogHealthCheckFailures'?: (boolean);
  'initialJitter'?: (_google_protobuf_Duration | null);
  'tlsOptions'?: (_envoy_config_core_v3_HealthCheck_TlsOptions | null);
  'eventService'?: (_envoy_config_core_v3_EventServiceConfig | null);
  'transportSocketMatchCriteria'?: (_google_protobuf_Struct | null);
  'noTrafficHealthyInterval'?: (_google_protobuf_Duration | null);
  'eventLogger'?: (_envoy_config_core_v3_TypedExtensionConfig)[];
  'alwaysLogHealthCheckSuccess'?: (boolean);
  'healthChecker'?: "httpHealthCheck"|"tcpHealthCheck"|"grpcHealthCheck"|"customHealthCheck";
}

export interface HealthCheck__Output {
  'timeout': (_google_protobuf_Duration__Output | null);
  'interval': (_google_protobuf_Duration__Output | null);
  'intervalJitter': (_google_protobuf_Duration__Output | null);
  'unhealthyThreshold': (_google_protobuf_UInt32Value__Output | null);
  'healthyThreshold': (_google_protobuf_UInt32Value__Output | null);
  'altPort': (_google_protobuf_UInt32Value__Output | null);
  'reuseConnection': (_google_protobuf_BoolValue__Output | null);
  'httpHealthCheck'?: (_envoy_config_core_v3_HealthCheck_HttpHealthCheck__Output | null);
  'tcpHealthCheck'?: (_envoy_config_core_v3_HealthCheck_TcpHealthCheck__Output | null);
  'grpcHealthCheck'?: (_envoy_config_core_v3_HealthCheck_GrpcHealthCheck__Output | null);
  'noTrafficInterval': (_google_protobuf_Duration__Output | null);
  'customHealthCheck'?: (_envoy_config_core_v3_HealthCheck_CustomHealthCheck__Output | null);
  'unhealthyInterval': (_google_protobuf_Duration__Output | null);
  'unhealthyEdgeInterval': (_google_protobuf_Duration__Output | null);
  'healthyEdgeInterval': (_google_protobuf_Duration__Output | null);
  'eventLogPath': (string);
  'intervalJitterPercent': (number);
  'alwaysLogHealthCheckFailures': (boolean);
  'initialJitter': (_google_protobuf_Duration__Output | null);
  'tlsOptions': (_envoy_config_core_v3_HealthCheck_TlsOptions__Output | null);
  'eventService': (_envoy_config_core_v3_EventServiceConfig__Output | null);
  'transportSocketMatchCriteria': (_google_protobuf_Struct__Output | null);
  'noTrafficHealthyInterval': (_google_protobuf_Duration__Output | null);
  'eventLogger': (_envoy_config_core_v3_TypedExtensionConfig__Output)[];
  'alwaysLogHealthCheckSuccess': (boolean);
  'healthChecker'?: "httpHealthCheck"|"tcpHealthCheck"|"grpcHealthCheck"|"customHealthCheck";
}
