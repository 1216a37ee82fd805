// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { HealthCheck as _envoy_config_core_v3_HealthCheck, HealthCheck__Output as _envoy_config_core_v3_HealthCheck__Output } from '../../../../envoy/config/core/v3/HealthCheck.js';
import type { CircuitBreakers as _envoy_config_cluster_v3_CircuitBreakers, CircuitBreakers__Output as _envoy_config_cluster_v3_CircuitBreakers__Output } from '../../../../envoy/config/cluster/v3/CircuitBreakers.js';
import type { Http1ProtocolOptions as _envoy_config_core_v3_Http1ProtocolOptions, Http1ProtocolOptions__Output as _envoy_config_core_v3_Http1ProtocolOptions__Output } from '../../../../envoy/config/core/v3/Http1ProtocolOptions.js';
import type { Http2ProtocolOptions as _envoy_config_core_v3_Http2ProtocolOptions, Http2ProtocolOptions__Output as _envoy_config_core_v3_Http2ProtocolOptions__Output } from '../../../../envoy/config/core/v3/Http2ProtocolOptions.js';
import type { Address as _envoy_config_core_v3_Address, Address__Output as _envoy_config_core_v3_Address__Output } from '../../../../envoy/config/core/v3/Address.js';
import type { OutlierDetection as _envoy_config_cluster_v3_OutlierDetection, OutlierDetection__Output as _envoy_config_cluster_v3_OutlierDetection__Output } from '../../../../envoy/config/cluster/v3/OutlierDetection.js';
import type { BindConfig as _envoy_config_core_v3_BindConfig, BindConfig__Output as _envoy_config_core_v3_BindConfig__Output } from '../../../../envoy/config/core/v3/BindConfig.js';
import type { TransportSocket as _envoy_config_core_v3_TransportSocket, TransportSocket__Output as _envoy_config_core_v3_TransportSocket__Output } from '../../../../envoy/config/core/v3/TransportSocket.js';
import type { Metadata as _envoy_config_core_v3_Metadata, Metadata__Output as _envoy_config_core_v3_Metadata__Output } from '../../../../envoy/config/core/v3/Metadata.js';
import type { HttpProtocolOptions as _envoy_config_core_v3_HttpProtocolOptions, HttpProtocolOptions__Output as _envoy_config_core_v3_HttpProtocolOptions__Output } from '../../../../envoy/config/core/v3/HttpProtocolOptions.js';
import type { UpstreamConnectionOptions as _envoy_config_cluster_v3_UpstreamConnectionOptions, UpstreamConnectionOptions__Output as _envoy_config_cluster_v3_UpstreamConnectionOptions__Output } from '../../../../envoy/config/cluster/v3/UpstreamConnectionOptions.js';
import type { ClusterLoadAssignment as _envoy_config_endpoint_v3_ClusterLoadAssignment, ClusterLoadAssignment__Output as _envoy_config_endpoint_v3_ClusterLoadAssignment__Output } from '../../../../envoy/config/endpoint/v3/ClusterLoadAssignment.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any.js';
import type { Filter as _envoy_config_cluster_v3_Filter, Filter__Output as _envoy_config_cluster_v3_Filter__Output } from '../../../../envoy/config/cluster/v3/Filter.js';
import type { LoadBalancingPolicy as _envoy_config_cluster_v3_LoadBalancingPolicy, LoadBalancingPolicy__Output as _envoy_config_cluster_v3_LoadBalancingPolicy__Output } from '../../../../envoy/config/cluster/v3/LoadBalancingPolicy.js';
import type { ConfigSource as _envoy_config_core_v3_ConfigSource, ConfigSource__Output as _envoy_config_core_v3_ConfigSource__Output } from '../../../../envoy/config/core/v3/ConfigSource.js';
import type { UpstreamHttpProtocolOptions as _envoy_config_core_v3_UpstreamHttpProtocolOptions, UpstreamHttpProtocolOptions__Output as _envoy_config_core_v3_UpstreamHttpProtocolOptions__Output } from '../../../../envoy/config/core/v3/UpstreamHttpProtocolOptions.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../envoy/config/core/v3/TypedExtensionConfig.js';
import type { TrackClusterStats as _envoy_config_cluster_v3_TrackClusterStats, TrackClusterStats__Output as _envoy_config_cluster_v3_TrackClusterStats__Output } from '../../../../envoy/config/cluster/v3/TrackClusterStats.js';
import type { DnsResolutionConfig as _envoy_config_core_v3_DnsResolutionConfig, DnsResolutionConfig__Output as _envoy_config_core_v3_DnsResolutionConfig__Output } from '../../../../envoy/config/core/v3/DnsResolutionConfig.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.js';
import type { RuntimeDouble as _envoy_config_core_v3_RuntimeDouble, RuntimeDouble__Output as _envoy_config_core_v3_RuntimeDouble__Output } from '../../../../envoy/config/core/v3/RuntimeDouble.js';
import type { Percent as _envoy_type_v3_Percent, Percent__Output as _envoy_type_v3_Percent__Output } from '../../../../envoy/type/v3/Percent.js';
import type { UInt64Value as _google_protobuf_UInt64Value, UInt64Value__Output as _google_protobuf_UInt64Value__Output } from '../../../../google/protobuf/UInt64Value.js';
import type { MetadataKey as _envoy_type_metadata_v3_MetadataKey, MetadataKey__Output as _envoy_type_metadata_v3_MetadataKey__Output } from '../../../../envoy/type/metadata/v3/MetadataKey.js';
import type { HealthStatusSet as _envoy_config_core_v3_HealthStatusSet, HealthStatusSet__Output as _envoy_config_core_v3_HealthStatusSet__Output } from '../../../../envoy/config/core/v3/HealthStatusSet.js';
import type { DoubleValue as _google_protobuf_DoubleValue, DoubleValue__Output as _google_protobuf_DoubleValue__Output } from '../../../../google/protobuf/DoubleValue.js';

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

export const _envoy_config_cluster_v3_Cluster_ClusterProtocolSelection = {
  USE_CONFIGURED_PROTOCOL: 'USE_CONFIGURED_PROTOCOL',
  USE_DOWNSTREAM_PROTOCOL: 'USE_DOWNSTREAM_PROTOCOL',
} as const;

export type _envoy_config_cluster_v3_Cluster_ClusterProtocolSelection =
  | 'USE_CONFIGURED_PROTOCOL'
  | 0
  | 'USE_DOWNSTREAM_PROTOCOL'
  | 1

export type _envoy_config_cluster_v3_Cluster_ClusterProtocolSelection__Output = typeof _envoy_config_cluster_v3_Cluster_ClusterProtocolSelection[keyof typeof _envoy_config_cluster_v3_Cluster_ClusterProtocolSelection]

export interface _envoy_config_cluster_v3_Cluster_CommonLbConfig {
  'healthyPanicThreshold'?: (_envoy_type_v3_Percent | null);
  'zoneAwareLbConfig'?: (_envoy_config_cluster_v3_Cluster_CommonLbConfig_ZoneAwareLbConfig | null);
  'localityWeightedLbConfig'?: (_envoy_config_cluster_v3_Cluster_CommonLbConfig_LocalityWeightedLbConfig | null);
  'updateMergeWindow'?: (_google_protobuf_Duration | null);
  'ignoreNewHostsUntilFirstHc'?: (boolean);
  'closeConnectionsOnHostSetChange'?: (boolean);
  'consistentHashingLbConfig'?: (_envoy_config_cluster_v3_Cluster_CommonLbConfig_ConsistentHashingLbConfig | null);
  'overrideHostStatus'?: (_envoy_config_core_v3_HealthStatusSet | null);
  'localityConfigSpecifier'?: "zoneAwareLbConfig"|"localityWeightedLbConfig";
}

export interface _envoy_config_cluster_v3_Cluster_CommonLbConfig__Output {
  'healthyPanicThreshold': (_envoy_type_v3_Percent__Output | null);
  'zoneAwareLbConfig'?: (_envoy_config_cluster_v3_Cluster_CommonLbConfig_ZoneAwareLbConfig__Output | null);
  'localityWeightedLbConfig'?: (_envoy_config_cluster_v3_Cluster_CommonLbConfig_LocalityWeightedLbConfig__Output | null);
  'updateMergeWindow': (_google_protobuf_Duration__Output | null);
  'ignoreNewHostsUntilFirstHc': (boolean);
  'closeConnectionsOnHostSetChange': (boolean);
  'consistentHashingLbConfig': (_envoy_config_cluster_v3_Cluster_CommonLbConfig_ConsistentHashingLbConfig__Output | null);
  'overrideHostStatus': (_envoy_config_core_v3_HealthStatusSet__Output | null);
  'localityConfigSpecifier'?: "zoneAwareLbConfig"|"localityWeightedLbConfig";
}

export interface _envoy_config_cluster_v3_Cluster_CommonLbConfig_ConsistentHashingLbConfig {
  'useHostnameForHashing'?: (boolean);
  'hashBalanceFactor'?: (_google_protobuf_UInt32Value | null);
}

export interface _envoy_config_cluster_v3_Cluster_CommonLbConfig_ConsistentHashingLbConfig__Output {
  'useHostnameForHashing': (boolean);
  'hashBalanceFactor': (_google_protobuf_UInt32Value__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_CustomClusterType {
  'name'?: (string);
  'typedConfig'?: (_google_protobuf_Any | null);
}

export interface _envoy_config_cluster_v3_Cluster_CustomClusterType__Output {
  'name': (string);
  'typedConfig': (_google_protobuf_Any__Output | null);
}

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

export const _envoy_config_cluster_v3_Cluster_DiscoveryType = {
  STATIC: 'STATIC',
  STRICT_DNS: 'STRICT_DNS',
  LOGICAL_DNS: 'LOGICAL_DNS',
  EDS: 'EDS',
  ORIGINAL_DST: 'ORIGINAL_DST',
} as const;

export type _envoy_config_cluster_v3_Cluster_DiscoveryType =
  | 'STATIC'
  | 0
  | 'STRICT_DNS'
  | 1
  | 'LOGICAL_DNS'
  | 2
  | 'EDS'
  | 3
  | 'ORIGINAL_DST'
  | 4

export type _envoy_config_cluster_v3_Cluster_DiscoveryType__Output = typeof _envoy_config_cluster_v3_Cluster_DiscoveryType[keyof typeof _envoy_config_cluster_v3_Cluster_DiscoveryType]

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

export const _envoy_config_cluster_v3_Cluster_DnsLookupFamily = {
  AUTO: 'AUTO',
  V4_ONLY: 'V4_ONLY',
  V6_ONLY: 'V6_ONLY',
  V4_PREFERRED: 'V4_PREFERRED',
  ALL: 'ALL',
} as const;

export type _envoy_config_cluster_v3_Cluster_DnsLookupFamily =
  | 'AUTO'
  | 0
  | 'V4_ONLY'
  | 1
  | 'V6_ONLY'
  | 2
  | 'V4_PREFERRED'
  | 3
  | 'ALL'
  | 4

export type _envoy_config_cluster_v3_Cluster_DnsLookupFamily__Output = typeof _envoy_config_cluster_v3_Cluster_DnsLookupFamily[keyof typeof _envoy_config_cluster_v3_Cluster_DnsLookupFamily]

export interface _envoy_config_cluster_v3_Cluster_EdsClusterConfig {
  'edsConfig'?: (_envoy_config_core_v3_ConfigSource | null);
  'serviceName'?: (string);
}

export interface _envoy_config_cluster_v3_Cluster_EdsClusterConfig__Output {
  'edsConfig': (_envoy_config_core_v3_ConfigSource__Output | null);
  'serviceName': (string);
}

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

export const _envoy_config_cluster_v3_Cluster_RingHashLbConfig_HashFunction = {
  XX_HASH: 'XX_HASH',
  MURMUR_HASH_2: 'MURMUR_HASH_2',
} as const;

export type _envoy_config_cluster_v3_Cluster_RingHashLbConfig_HashFunction =
  | 'XX_HASH'
  | 0
  | 'MURMUR_HASH_2'
  | 1

export type _envoy_config_cluster_v3_Cluster_RingHashLbConfig_HashFunction__Output = typeof _envoy_config_cluster_v3_Cluster_RingHashLbConfig_HashFunction[keyof typeof _envoy_config_cluster_v3_Cluster_RingHashLbConfig_HashFunction]

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

export const _envoy_config_cluster_v3_Cluster_LbPolicy = {
  ROUND_ROBIN: 'ROUND_ROBIN',
  LEAST_REQUEST: 'LEAST_REQUEST',
  RING_HASH: 'RING_HASH',
  RANDOM: 'RANDOM',
  MAGLEV: 'MAGLEV',
  CLUSTER_PROVIDED: 'CLUSTER_PROVIDED',
  LOAD_BALANCING_POLICY_CONFIG: 'LOAD_BALANCING_POLICY_CONFIG',
} as const;

export type _envoy_config_cluster_v3_Cluster_LbPolicy =
  | 'ROUND_ROBIN'
  | 0
  | 'LEAST_REQUEST'
  | 1
  | 'RING_HASH'
  | 2
  | 'RANDOM'
  | 3
  | 'MAGLEV'
  | 5
  | 'CLUSTER_PROVIDED'
  | 6
  | 'LOAD_BALANCING_POLICY_CONFIG'
  | 7

export type _envoy_config_cluster_v3_Cluster_LbPolicy__Output = typeof _envoy_config_cluster_v3_Cluster_LbPolicy[keyof typeof _envoy_config_cluster_v3_Cluster_LbPolicy]

export interface _envoy_config_cluster_v3_Cluster_LbSubsetConfig {
  'fallbackPolicy'?: (_envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetFallbackPolicy);
  'defaultSubset'?: (_google_protobuf_Struct | null);
  'subsetSelectors'?: (_envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector)[];
  'localityWeightAware'?: (boolean);
  'scaleLocalityWeight'?: (boolean);
  'panicModeAny'?: (boolean);
  'listAsAny'?: (boolean);
  'metadataFallbackPolicy'?: (_envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetMetadataFallbackPolicy);
}

export interface _envoy_config_cluster_v3_Cluster_LbSubsetConfig__Output {
  'fallbackPolicy': (_envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetFallbackPolicy__Output);
  'defaultSubset': (_google_protobuf_Struct__Output | null);
  'subsetSelectors': (_envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector__Output)[];
  'localityWeightAware': (boolean);
  'scaleLocalityWeight': (boolean);
  'panicModeAny': (boolean);
  'listAsAny': (boolean);
  'metadataFallbackPolicy': (_envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetMetadataFallbackPolicy__Output);
}

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

export const _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetFallbackPolicy = {
  NO_FALLBACK: 'NO_FALLBACK',
  ANY_ENDPOINT: 'ANY_ENDPOINT',
  DEFAULT_SUBSET: 'DEFAULT_SUBSET',
} as const;

export type _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetFallbackPolicy =
  | 'NO_FALLBACK'
  | 0
  | 'ANY_ENDPOINT'
  | 1
  | 'DEFAULT_SUBSET'
  | 2

export type _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetFallbackPolicy__Output = typeof _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetFallbackPolicy[keyof typeof _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetFallbackPolicy]

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

export const _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetMetadataFallbackPolicy = {
  METADATA_NO_FALLBACK: 'METADATA_NO_FALLBACK',
  FALLBACK_LIST: 'FALLBACK_LIST',
} as const;

export type _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetMetadataFallbackPolicy =
  | 'METADATA_NO_FALLBACK'
  | 0
  | 'FALLBACK_LIST'
  | 1

export type _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetMetadataFallbackPolicy__Output = typeof _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetMetadataFallbackPolicy[keyof typeof _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetMetadataFallbackPolicy]

export interface _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector {
  'keys'?: (string)[];
  'singleHostPerSubset'?: (boolean);
  'fallbackPolicy'?: (_envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector_LbSubsetSelectorFallbackPolicy);
  'fallbackKeysSubset'?: (string)[];
}

export interface _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector__Output {
  'keys': (string)[];
  'singleHostPerSubset': (boolean);
  'fallbackPolicy': (_envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector_LbSubsetSelectorFallbackPolicy__Output);
  'fallbackKeysSubset': (string)[];
}

// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/cluster/v3/cluster.proto

export const _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector_LbSubsetSelectorFallbackPolicy = {
  NOT_DEFINED: 'NOT_DEFINED',
  NO_FALLBACK: 'NO_FALLBACK',
  ANY_ENDPOINT: 'ANY_ENDPOINT',
  DEFAULT_SUBSET: 'DEFAULT_SUBSET',
  KEYS_SUBSET: 'KEYS_SUBSET',
} as const;

export type _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector_LbSubsetSelectorFallbackPolicy =
  | 'NOT_DEFINED'
  | 0
  | 'NO_FALLBACK'
  | 1
  | 'ANY_ENDPOINT'
  | 2
  | 'DEFAULT_SUBSET'
  | 3
  | 'KEYS_SUBSET'
  | 4

export type _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector_LbSubsetSelectorFallbackPolicy__Output = typeof _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector_LbSubsetSelectorFallbackPolicy[keyof typeof _envoy_config_cluster_v3_Cluster_LbSubsetConfig_LbSubsetSelector_LbSubsetSelectorFallbackPolicy]

export interface _envoy_config_cluster_v3_Cluster_LeastRequestLbConfig {
  'choiceCount'?: (_google_protobuf_UInt32Value | null);
  'activeRequestBias'?: (_envoy_config_core_v3_RuntimeDouble | null);
  'slowStartConfig'?: (_envoy_config_cluster_v3_Cluster_SlowStartConfig | null);
}

export interface _envoy_config_cluster_v3_Cluster_LeastRequestLbConfig__Output {
  'choiceCount': (_google_protobuf_UInt32Value__Output | null);
  'activeRequestBias': (_envoy_config_core_v3_RuntimeDouble__Output | null);
  'slowStartConfig': (_envoy_config_cluster_v3_Cluster_SlowStartConfig__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_CommonLbConfig_LocalityWeightedLbConfig {
}

export interface _envoy_config_cluster_v3_Cluster_CommonLbConfig_LocalityWeightedLbConfig__Output {
}

export interface _envoy_config_cluster_v3_Cluster_MaglevLbConfig {
  'tableSize'?: (_google_protobuf_UInt64Value | null);
}

export interface _envoy_config_cluster_v3_Cluster_MaglevLbConfig__Output {
  'tableSize': (_google_protobuf_UInt64Value__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_OriginalDstLbConfig {
  'useHttpHeader'?: (boolean);
  'httpHeaderName'?: (string);
  'upstreamPortOverride'?: (_google_protobuf_UInt32Value | null);
  'metadataKey'?: (_envoy_type_metadata_v3_MetadataKey | null);
}

export interface _envoy_config_cluster_v3_Cluster_OriginalDstLbConfig__Output {
  'useHttpHeader': (boolean);
  'httpHeaderName': (string);
  'upstreamPortOverride': (_google_protobuf_UInt32Value__Output | null);
  'metadataKey': (_envoy_type_metadata_v3_MetadataKey__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_PreconnectPolicy {
  'perUpstreamPreconnectRatio'?: (_google_protobuf_DoubleValue | null);
  'predictivePreconnectRatio'?: (_google_protobuf_DoubleValue | null);
}

export interface _envoy_config_cluster_v3_Cluster_PreconnectPolicy__Output {
  'perUpstreamPreconnectRatio': (_google_protobuf_DoubleValue__Output | null);
  'predictivePreconnectRatio': (_google_protobuf_DoubleValue__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_RefreshRate {
  'baseInterval'?: (_google_protobuf_Duration | null);
  'maxInterval'?: (_google_protobuf_Duration | null);
}

export interface _envoy_config_cluster_v3_Cluster_RefreshRate__Output {
  'baseInterval': (_google_protobuf_Duration__Output | null);
  'maxInterval': (_google_protobuf_Duration__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_RingHashLbConfig {
  'minimumRingSize'?: (_google_protobuf_UInt64Value | null);
  'hashFunction'?: (_envoy_config_cluster_v3_Cluster_RingHashLbConfig_HashFunction);
  'maximumRingSize'?: (_google_protobuf_UInt64Value | null);
}

export interface _envoy_config_cluster_v3_Cluster_RingHashLbConfig__Output {
  'minimumRingSize': (_google_protobuf_UInt64Value__Output | null);
  'hashFunction': (_envoy_config_cluster_v3_Cluster_RingHashLbConfig_HashFunction__Output);
  'maximumRingSize': (_google_protobuf_UInt64Value__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_RoundRobinLbConfig {
  'slowStartConfig'?: (_envoy_config_cluster_v3_Cluster_SlowStartConfig | null);
}

export interface _envoy_config_cluster_v3_Cluster_RoundRobinLbConfig__Output {
  'slowStartConfig': (_envoy_config_cluster_v3_Cluster_SlowStartConfig__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_SlowStartConfig {
  'slowStartWindow'?: (_google_protobuf_Duration | null);
  'aggression'?: (_envoy_config_core_v3_RuntimeDouble | null);
  'minWeightPercent'?: (_envoy_type_v3_Percent | null);
}

export interface _envoy_config_cluster_v3_Cluster_SlowStartConfig__Output {
  'slowStartWindow': (_google_protobuf_Duration__Output | null);
  'aggression': (_envoy_config_core_v3_RuntimeDouble__Output | null);
  'minWeightPercent': (_envoy_type_v3_Percent__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_TransportSocketMatch {
  'name'?: (string);
  'match'?: (_google_protobuf_Struct | null);
  'transportSocket'?: (_envoy_config_core_v3_TransportSocket | null);
}

export interface _envoy_config_cluster_v3_Cluster_TransportSocketMatch__Output {
  'name': (string);
  'match': (_google_protobuf_Struct__Output | null);
  'transportSocket': (_envoy_config_core_v3_TransportSocket__Output | null);
}

export interface _envoy_config_cluster_v3_Cluster_CommonLbConfig_ZoneAwareLbConfig {
  'routingEnabled'?: (_envoy_type_v3_Percent | null);
  'minClusterSize'?: (_google_protobuf_UInt64Value | null);
  'failTrafficOnPanic'?: (boolean);
}

export interface _envoy_config_cluster_v3_Cluster_CommonLbConfig_ZoneAwareLbConfig__Output {
  'routingEnabled': (_envoy_type_v3_Percent__Output | null);
  'minClusterSize': (_google_protobuf_UInt64Value__Output | null);
  'failTrafficOnPanic': (boolean);
}

export interface Cluster {
  'name'?: (string);
  'type'?: (_envoy_config_cluster_v3_Cluster_DiscoveryType);
  'edsClusterConfig'?: (_envoy_config_cluster_v3_Cluster_EdsClusterConfig | null);
  'connectTimeout'?: (_google_protobuf_Duration | null);
  'perConnectionBufferLimitBytes'?: (_google_protobuf_UInt32Value | null);
  'lbPolicy'?: (_envoy_config_cluster_v3_Cluster_LbPolicy);
  'healthChecks'?: (_envoy_config_core_v3_HealthCheck)[];
  'maxRequestsPerConnection'?: (_google_protobuf_UInt32Value | null);
  'circuitBreakers'?: (_envoy_config_cluster_v3_CircuitBreakers | null);
  'httpProtocolOptions'?: (_envoy_config_core_v3_Http1ProtocolOptions | null);
  'http2ProtocolOptions'?: (_envoy_config_core_v3_Http2ProtocolOptions | null);
  'dnsRefreshRate'?: (_google_protobuf_Duration | null);
  'dnsLookupFamily'?: (_envoy_config_cluster_v3_Cluster_DnsLookupFamily);
  'dnsResolvers'?: (_envoy_config_core_v3_Address)[];
  'outlierDetection'?: (_envoy_config_cluster_v3_OutlierDetection | null);
  'cleanupInterval'?: (_google_protobuf_Duration | null);
  'upstreamBindConfig'?: (_envoy_config_core_v3_BindConfig | null);
  'lbSubsetConfig'?: (_envoy_config_cluster_v3_Cluster_LbSubsetConfig | null);
  'ringHashLbConfig'?: (_envoy_config_cluster_v3_Cluster_RingHashLbConfig | null);
  'transportSocket'?: (_envoy_config_core_v3_TransportSocket | null);
  'metadata'?: (_envoy_config_core_v3_Metadata | null);
  'protocolSelection'?: (_envoy_config_cluster_v3_Cluster_ClusterProtocolSelection);
  'commonLbConfig'?: (_envoy_config_cluster_v3_Cluster_CommonLbConfig | null);
  'altStatName'?: (string);
  'commonHttpProtocolOptions'?: (_envoy_config_core_v3_HttpProtocolOptions | null);
  'upstreamConnectionOptions'?: (_envoy_config_cluster_v3_UpstreamConnectionOptions | null);
  'closeConnectionsOnHostHealthFailure'?: (boolean);
  'ignoreHealthOnHostRemoval'?: (boolean);
  'loadAssignment'?: (_envoy_config_endpoint_v3_ClusterLoadAssignment | null);
  'originalDstLbConfig'?: (_envoy_config_cluster_v3_Cluster_OriginalDstLbConfig | null);
  'typedExtensionProtocolOptions'?: ({[key: string]: _google_protobuf_Any});
  'leastRequestLbConfig'?: (_envoy_config_cluster_v3_Cluster_LeastRequestLbConfig | null);
  'clusterType'?: (_envoy_config_cluster_v3_Cluster_CustomClusterType | null);
  'respectDnsTtl'?: (boolean);
  'filters'?: (_envoy_config_cluster_v3_Filter)[];
  'loadBalancingPolicy'?: (_envoy_config_cluster_v3_LoadBalancingPolicy | null);
  'lrsServer'?: (_envoy_config_core_v3_ConfigSource | null);
  'transportSocketMatches'?: (_envoy_config_cluster_v3_Cluster_TransportSocketMatch)[];
  'dnsFailureRefreshRate'?: (_envoy_config_cluster_v3_Cluster_RefreshRate | null);
  'useTcpForDnsLookups'?: (boolean);
  'upstreamHttpProtocolOptions'?: (_envoy_config_core_v3_UpstreamHttpProtocolOptions | null);
  'trackTimeoutBudgets'?: (boolean);
  'upstreamConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'trackClusterStats'?: (_envoy_config_cluster_v3_TrackClusterStats | null);
  'preconnectPolicy'?: (_envoy_config_cluster_v3_Cluster_PreconnectPolicy | null);
  'connectionPoolPerDownstreamConnection'?: (boolean);
  'maglevLbConfig'?: (_envoy_config_cluster_v3_Cluster_MaglevLbConfig | null);
  'dnsResolutionConfig'?: (_envoy_config_core_v3_DnsResolutionConfig | null);
  'waitForWarmOnInit'?: (_google_protobuf_BoolValue | null);
  'typedDnsResolverConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'roundRobinLbConfig'?: (_envoy_config_cluster_v3_Cluster_RoundRobinLbConfig | null);
  'lrsReportEndpointMetrics'?: (string)[];
  'clusterDiscoveryType'?: "type"|"clusterType";
  'lbConfig'?: "ringHashLbConfig"|"maglevLbConfig"|"originalDstLbConfig"|"leastRequestLbConfig"|"roundRobinLbConfig";
}

export interface Cluster__Output {
  'name': (string);
  'type'?: (_envoy_config_cluster_v3_Cluster_DiscoveryType__Output);
  'edsClusterConfig': (_envoy_config_cluster_v3_Cluster_EdsClusterConfig__Output | null);
  'connectTimeout': (_google_protobuf_Duration__Output | null);
  'perConnectionBufferLimitBytes': (_google_protobuf_UInt32Value__Output | null);
  'lbPolicy': (_envoy_config_cluster_v3_Cluster_LbPolicy__Output);
  'healthChecks': (_envoy_config_core_v3_HealthCheck__Output)[];
  'maxRequestsPerConnection': (_google_protobuf_UInt32Value__Output | null);
  'circuitBreakers': (_envoy_config_cluster_v3_CircuitBreakers__Output | null);
  'httpProtocolOptions': (_envoy_config_core_v3_Http1ProtocolOptions__Output | null);
  'http2ProtocolOptions': (_envoy_config_core_v3_Http2ProtocolOptions__Output | null);
  'dnsRefreshRate': (_google_protobuf_Duration__Output | null);
  'dnsLookupFamily': (_envoy_config_cluster_v3_Cluster_DnsLookupFamily__Output);
  'dnsResolvers': (_envoy_config_core_v3_Address__Output)[];
  'outlierDetection': (_envoy_config_cluster_v3_OutlierDetection__Output | null);
  'cleanupInterval': (_google_protobuf_Duration__Output | null);
  'upstreamBindConfig': (_envoy_config_core_v3_BindConfig__Output | null);
  'lbSubsetConfig': (_envoy_config_cluster_v3_Cluster_LbSubsetConfig__Output | null);
  'ringHashLbConfig'?: (_envoy_config_cluster_v3_Cluster_RingHashLbConfig__Output | null);
  'transportSocket': (_envoy_config_core_v3_TransportSocket__Output | null);
  'metadata': (_envoy_config_core_v3_Metadata__Output | null);
  'protocolSelection': (_envoy_config_cluster_v3_Cluster_ClusterProtocolSelection__Output);
  'commonLbConfig': (_envoy_config_cluster_v3_Cluster_CommonLbConfig__Output | null);
  'altStatName': (string);
  'commonHttpProtocolOptions': (_envoy_config_core_v3_HttpProtocolOptions__Output | null);
  'upstreamConnectionOptions': (_envoy_config_cluster_v3_UpstreamConnectionOptions__Output | null);
  'closeConnectionsOnHostHealthFailure': (boolean);
  'ignoreHealthOnHostRemoval': (boolean);
  'loadAssignment': (_envoy_config_endpoint_v3_ClusterLoadAssignment__Output | null);
  'originalDstLbConfig'?: (_envoy_config_cluster_v3_Cluster_OriginalDstLbConfig__Output | null);
  'typedExtensionProtocolOptions': ({[key: string]: _google_protobuf_Any__Output});
  'leastRequestLbConfig'?: (_envoy_config_cluster_v3_Cluster_LeastRequestLbConfig__Output | null);
  'clusterType'?: (_envoy_config_cluster_v3_Cluster_CustomClusterType__Output | null);
  'respectDnsTtl': (boolean);
  'filters': (_envoy_config_cluster_v3_Filter__Output)[];
  'loadBalancingPolicy': (_envoy_config_cluster_v3_LoadBalancingPolicy__Output | null);
  'lrsServer': (_envoy_config_core_v3_ConfigSource__Output | null);
  'transportSocketMatches': (_envoy_config_cluster_v3_Cluster_TransportSocketMatch__Output)[];
  'dnsFailureRefreshRate': (_envoy_config_cluster_v3_Cluster_RefreshRate__Output | null);
  'useTcpForDnsLookups': (boolean);
  'upstreamHttpProtocolOptions': (_envoy_config_core_v3_UpstreamHttpProtocolOptions__Output | null);
  'trackTimeoutBudgets': (boolean);
  'upstreamConfig': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'trackClusterStats': (_envoy_config_cluster_v3_TrackClusterStats__Output | null);
  'preconnectPolicy': (_envoy_config_cluster_v3_Cluster_PreconnectPolicy__Output | null);
  'connectionPoolPerDownstreamConnection': (boolean);
  'maglevLbConfig'?: (_envoy_config_cluster_v3_Cluster_MaglevLbConfig__Output | null);
  'dnsResolutionConfig': (_envoy_config_core_v3_DnsResolutionConfig__Output | null);
  'waitForWarmOnInit': (_google_protobuf_BoolValue__Output | null);
  'typedDnsResolverConfig': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'roundRobinLbConfig'?: (_envoy_config_cluster_v3_Cluster_RoundRobinLbConfig__Output | null);
  'lrsReportEndpointMetrics': (string)[];
  'clusterDiscoveryType'?: "type"|"clusterType";
  'lbConfig'?: "ringHashLbConfig"|"maglevLbConfig"|"originalDstLbConfig"|"leastRequestLbConfig"|"roundRobinLbConfig";
}
