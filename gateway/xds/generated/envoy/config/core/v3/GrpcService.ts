// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/grpc_service.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.js';
import type { HeaderValue as _envoy_config_core_v3_HeaderValue, HeaderValue__Output as _envoy_config_core_v3_HeaderValue__Output } from '../../../../envoy/config/core/v3/HeaderValue.js';
import type { RetryPolicy as _envoy_config_core_v3_RetryPolicy, RetryPolicy__Output as _envoy_config_core_v3_RetryPolicy__Output } from '../../../../envoy/config/core/v3/RetryPolicy.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.js';
import type { DataSource as _envoy_config_core_v3_DataSource, DataSource__Output as _envoy_config_core_v3_DataSource__Output } from '../../../../envoy/config/core/v3/DataSource.js';
import type { Empty as _google_protobuf_Empty, Empty__Output as _google_protobuf_Empty__Output } from '../../../../google/protobuf/Empty.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any.js';
import type { Long } from '@grpc/proto-loader';

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials {
  'accessToken'?: (string);
  'googleComputeEngine'?: (_google_protobuf_Empty | null);
  'googleRefreshToken'?: (string);
  'serviceAccountJwtAccess'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_ServiceAccountJWTAccessCredentials | null);
  'googleIam'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_GoogleIAMCredentials | null);
  'fromPlugin'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_MetadataCredentialsFromPlugin | null);
  'stsService'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_StsService | null);
  'credentialSpecifier'?: "accessToken"|"googleComputeEngine"|"googleRefreshToken"|"serviceAccountJwtAccess"|"googleIam"|"fromPlugin"|"stsService";
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials__Output {
  'accessToken'?: (string);
  'googleComputeEngine'?: (_google_protobuf_Empty__Output | null);
  'googleRefreshToken'?: (string);
  'serviceAccountJwtAccess'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_ServiceAccountJWTAccessCredentials__Output | null);
  'googleIam'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_GoogleIAMCredentials__Output | null);
  'fromPlugin'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_MetadataCredentialsFromPlugin__Output | null);
  'stsService'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_StsService__Output | null);
  'credentialSpecifier'?: "accessToken"|"googleComputeEngine"|"googleRefreshToken"|"serviceAccountJwtAccess"|"googleIam"|"fromPlugin"|"stsService";
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelArgs {
  'args'?: ({[key: string]: _envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelArgs_Value});
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelArgs__Output {
  'args': ({[key: string]: _envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelArgs_Value__Output});
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelCredentials {
  'sslCredentials'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_SslCredentials | null);
  'googleDefault'?: (_google_protobuf_Empty | null);
  'localCredentials'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_GoogleLocalCredentials | null);
  'credentialSpecifier'?: "sslCredentials"|"googleDefault"|"localCredentials";
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelCredentials__Output {
  'sslCredentials'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_SslCredentials__Output | null);
  'googleDefault'?: (_google_protobuf_Empty__Output | null);
  'localCredentials'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_GoogleLocalCredentials__Output | null);
  'credentialSpecifier'?: "sslCredentials"|"googleDefault"|"localCredentials";
}

export interface _envoy_config_core_v3_GrpcService_EnvoyGrpc {
  'clusterName'?: (string);
  'authority'?: (string);
  'retryPolicy'?: (_envoy_config_core_v3_RetryPolicy | null);
  'maxReceiveMessageLength'?: (_google_protobuf_UInt32Value | null);
  'skipEnvoyHeaders'?: (boolean);
}

export interface _envoy_config_core_v3_GrpcService_EnvoyGrpc__Output {
  'clusterName': (string);
  'authority': (string);
  'retryPolicy': (_envoy_config_core_v3_RetryPolicy__Output | null);
  'maxReceiveMessageLength': (_google_protobuf_UInt32Value__Output | null);
  'skipEnvoyHeaders': (boolean);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc {
  'targetUri'?: (string);
  'channelCredentials'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelCredentials | null);
  'callCredentials'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials)[];
  'statPrefix'?: (string);
  'credentialsFactoryName'?: (string);
  'config'?: (_google_protobuf_Struct | null);
  'perStreamBufferLimitBytes'?: (_google_protobuf_UInt32Value | null);
  'channelArgs'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelArgs | null);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc__Output {
  'targetUri': (string);
  'channelCredentials': (_envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelCredentials__Output | null);
  'callCredentials': (_envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials__Output)[];
  'statPrefix': (string);
  'credentialsFactoryName': (string);
  'config': (_google_protobuf_Struct__Output | null);
  'perStreamBufferLimitBytes': (_google_protobuf_UInt32Value__Output | null);
  'channelArgs': (_envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelArgs__Output | null);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_GoogleIAMCredentials {
  'authorizationToken'?: (string);
  'authoritySelector'?: (string);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_GoogleIAMCredentials__Output {
  'authorizationToken': (string);
  'authoritySelector': (string);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_GoogleLocalCredentials {
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_GoogleLocalCredentials__Output {
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_MetadataCredentialsFromPlugin {
  'name'?: (string);
  'typedConfig'?: (_google_protobuf_Any | null);
  'configType'?: "typedConfig";
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_MetadataCredentialsFromPlugin__Output {
  'name': (string);
  'typedConfig'?: (_google_protobuf_Any__Output | null);
  'configType'?: "typedConfig";
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_ServiceAccountJWTAccessCredentials {
  'jsonKey'?: (string);
  'tokenLifetimeSeconds'?: (number | string | Long);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_ServiceAccountJWTAccessCredentials__Output {
  'jsonKey': (string);
  'tokenLifetimeSeconds': (string);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_SslCredentials {
  'rootCerts'?: (_envoy_config_core_v3_DataSource | null);
  'privateKey'?: (_envoy_config_core_v3_DataSource | null);
  'certChain'?: (_envoy_config_core_v3_DataSource | null);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_SslCredentials__Output {
  'rootCerts': (_envoy_config_core_v3_DataSource__Output | null);
  'privateKey': (_envoy_config_core_v3_DataSource__Output | null);
  'certChain': (_envoy_config_core_v3_DataSource__Output | null);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_StsService {
  'tokenExchangeServiceUri'?: (string);
  'resource'?: (string);
  'audience'?: (string);
  'scope'?: (string);
  'requestedTokenType'?: (string);
  'subjectTokenPath'?: (string);
  'subjectTokenType'?: (string);
  'actorTokenPath'?: (string);
  'actorTokenType'?: (string);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_CallCredentials_StsService__Output {
  'tokenExchangeServiceUri': (string);
  'resource': (string);
  'audience': (string);
  'scope': (string);
  'requestedTokenType': (string);
  'subjectTokenPath': (string);
  'subjectTokenType': (string);
  'actorTokenPath': (string);
  'actorTokenType': (string);
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelArgs_Value {
  'stringValue'?: (string);
  'intValue'?: (number | string | Long);
  'valueSpecifier'?: "stringValue"|"intValue";
}

export interface _envoy_config_core_v3_GrpcService_GoogleGrpc_ChannelArgs_Value__Output {
  'stringValue'?: (string);
  'intValue'?: (string);
  'valueSpecifier'?: "stringValue"|"intValue";
}

export interface GrpcService {
  'envoyGrpc'?: (_envoy_config_core_v3_GrpcService_EnvoyGrpc | null);
  'googleGrpc'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc | null);
  'timeout'?: (_google_protobuf_Duration | null);
  'initialMetadata'?: (_envoy_config_core_v3_HeaderValue)[];
  'retryPolicy'?: (_envoy_config_core_v3_RetryPolicy | null);
  'targetSpecifier'?: "envoyGrpc"|"googleGrpc";
}

export interface GrpcService__Output {
  'envoyGrpc'?: (_envoy_config_core_v3_GrpcService_EnvoyGrpc__Output | null);
  'googleGrpc'?: (_envoy_config_core_v3_GrpcService_GoogleGrpc__Output | null);
  'timeout': (_google_protobuf_Duration__Output | null);
  'initialMetadata': (_envoy_config_core_v3_HeaderValue__Output)[];
  'retryPolicy': (_envoy_config_core_v3_RetryPolicy__Output | null);
  'targetSpecifier'?: "envoyGrpc"|"googleGrpc";
}
