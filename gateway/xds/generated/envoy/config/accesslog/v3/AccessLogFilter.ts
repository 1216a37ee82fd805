// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/accesslog/v3/accesslog.proto

import type { StatusCodeFilter as _envoy_config_accesslog_v3_StatusCodeFilter, StatusCodeFilter__Output as _envoy_config_accesslog_v3_StatusCodeFilter__Output } from '../../../../envoy/config/accesslog/v3/StatusCodeFilter.js';
import type { DurationFilter as _envoy_config_accesslog_v3_DurationFilter, DurationFilter__Output as _envoy_config_accesslog_v3_DurationFilter__Output } from '../../../../envoy/config/accesslog/v3/DurationFilter.js';
import type { NotHealthCheckFilter as _envoy_config_accesslog_v3_NotHealthCheckFilter, NotHealthCheckFilter__Output as _envoy_config_accesslog_v3_NotHealthCheckFilter__Output } from '../../../../envoy/config/accesslog/v3/NotHealthCheckFilter.js';
import type { TraceableFilter as _envoy_config_accesslog_v3_TraceableFilter, TraceableFilter__Output as _envoy_config_accesslog_v3_TraceableFilter__Output } from '../../../../envoy/config/accesslog/v3/TraceableFilter.js';
import type { RuntimeFilter as _envoy_config_accesslog_v3_RuntimeFilter, RuntimeFilter__Output as _envoy_config_accesslog_v3_RuntimeFilter__Output } from '../../../../envoy/config/accesslog/v3/RuntimeFilter.js';
import type { AndFilter as _envoy_config_accesslog_v3_AndFilter, AndFilter__Output as _envoy_config_accesslog_v3_AndFilter__Output } from '../../../../envoy/config/accesslog/v3/AndFilter.js';
import type { OrFilter as _envoy_config_accesslog_v3_OrFilter, OrFilter__Output as _envoy_config_accesslog_v3_OrFilter__Output } from '../../../../envoy/config/accesslog/v3/OrFilter.js';
import type { HeaderFilter as _envoy_config_accesslog_v3_HeaderFilter, HeaderFilter__Output as _envoy_config_accesslog_v3_HeaderFilter__Output } from '../../../../envoy/config/accesslog/v3/HeaderFilter.js';
import type { ResponseFlagFilter as _envoy_config_accesslog_v3_ResponseFlagFilter, ResponseFlagFilter__Output as _envoy_config_accesslog_v3_ResponseFlagFilter__Output } from '../../../../envoy/config/accesslog/v3/ResponseFlagFilter.js';
import type { GrpcStatusFilter as _envoy_config_accesslog_v3_GrpcStatusFilter, GrpcStatusFilter__Output as _envoy_config_accesslog_v3_GrpcStatusFilter__Output } from '../../../../envoy/config/accesslog/v3/GrpcStatusFilter.js';
import type { ExtensionFilter as _envoy_config_accesslog_v3_ExtensionFilter, ExtensionFilter__Output as _envoy_config_accesslog_v3_ExtensionFilter__Output } from '../../../../envoy/config/accesslog/v3/ExtensionFilter.js';
import type { MetadataFilter as _envoy_config_accesslog_v3_MetadataFilter, MetadataFilter__Output as _envoy_config_accesslog_v3_MetadataFilter__Output } from '../../../../envoy/config/accesslog/v3/MetadataFilter.js';
import type { LogTypeFilter as _envoy_config_accesslog_v3_LogTypeFilter, LogTypeFilter__Output as _envoy_config_accesslog_v3_LogTypeFilter__Output } from '../../../../envoy/config/accesslog/v3/LogTypeFilter.js';

export interface AccessLogFilter {
  'statusCodeFilter'?: (_envoy_config_accesslog_v3_StatusCodeFilter | null);
  'durationFilter'?: (_envoy_config_accesslog_v3_DurationFilter | null);
  'notHealthCheckFilter'?: (_envoy_config_accesslog_v3_NotHealthCheckFilter | null);
  'traceableFilter'?: (_envoy_config_accesslog_v3_TraceableFilter | null);
  'runtimeFilter'?: (_envoy_config_accesslog_v3_RuntimeFilter | null);
  'andFilter'?: (_envoy_config_accesslog_v3_AndFilter | null);
  'orFilter'?: (_envoy_config_accesslog_v3_OrFilter | null);
  'headerFilter'?: (_envoy_config_accesslog_v3_HeaderFilter | null);
  'responseFlagFilter'?: (_envoy_config_accesslog_v3_ResponseFlagFilter | null);
  'grpcStatusFilter'?: (_envoy_config_accesslog_v3_GrpcStatusFilter | null);
  'extensionFilter'?: (_envoy_config_accesslog_v3_ExtensionFilter | null);
  'metadataFilter'?: (_envoy_config_accesslog_v3_MetadataFilter | null);
  'logTypeFilter'?: (_envoy_config_accesslog_v3_LogTypeFilter | null);
  'filterSpecifier'?: "statusCodeFilter"|"durationFilter"|"notHealthCheckFilter"|"traceableFilter"|"runtimeFilter"|"andFilter"|"orFilter"|"headerFilter"|"responseFlagFilter"|"grpcStatusFilter"|"extensionFilter"|"metadataFilter"|"logTypeFilter";
}

export interface AccessLogFilter__Output {
  'statusCodeFilter'?: (_envoy_config_accesslog_v3_StatusCodeFilter__Output | null);
  'durationFilter'?: (_envoy_config_accesslog_v3_DurationFilter__Output | null);
  'notHealthCheckFilter'?: (_envoy_config_accesslog_v3_NotHealthCheckFilter__Output | null);
  'traceableFilter'?: (_envoy_config_accesslog_v3_TraceableFilter__Output | null);
  'runtimeFilter'?: (_envoy_config_accesslog_v3_RuntimeFilter__Output | null);
  'andFilter'?: (_envoy_config_accesslog_v3_AndFilter__Output | null);
  'orFilter'?: (_envoy_config_accesslog_v3_OrFilter__Output | null);
  'headerFilter'?: (_envoy_config_accesslog_v3_HeaderFilter__Output | null);
  'responseFlagFilter'?: (_envoy_config_accesslog_v3_ResponseFlagFilter__Output | null);
  'grpcStatusFilter'?: (_envoy_config_accesslog_v3_GrpcStatusFilter__Output | null);
  'extensionFilter'?: (_envoy_config_accesslog_v3_ExtensionFilter__Output | null);
  'metadataFilter'?: (_envoy_config_accesslog_v3_MetadataFilter__Output | null);
  'logTypeFilter'?: (_envoy_config_accesslog_v3_LogTypeFilter__Output | null);
  'filterSpecifier'?: "statusCodeFilter"|"durationFilter"|"notHealthCheckFilter"|"traceableFilter"|"runtimeFilter"|"andFilter"|"orFilter"|"headerFilter"|"responseFlagFilter"|"grpcStatusFilter"|"extensionFilter"|"metadataFilter"|"logTypeFilter";
}
