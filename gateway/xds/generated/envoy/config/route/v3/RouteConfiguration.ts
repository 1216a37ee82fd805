// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/route/v3/route.proto

import type { VirtualHost as _envoy_config_route_v3_VirtualHost, VirtualHost__Output as _envoy_config_route_v3_VirtualHost__Output } from '../../../../envoy/config/route/v3/VirtualHost.js';
import type { HeaderValueOption as _envoy_config_core_v3_HeaderValueOption, HeaderValueOption__Output as _envoy_config_core_v3_HeaderValueOption__Output } from '../../../../envoy/config/core/v3/HeaderValueOption.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';
import type { Vhds as _envoy_config_route_v3_Vhds, Vhds__Output as _envoy_config_route_v3_Vhds__Output } from '../../../../envoy/config/route/v3/Vhds.js';
import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { ClusterSpecifierPlugin as _envoy_config_route_v3_ClusterSpecifierPlugin, ClusterSpecifierPlugin__Output as _envoy_config_route_v3_ClusterSpecifierPlugin__Output } from '../../../../envoy/config/route/v3/ClusterSpecifierPlugin.js';
import type { _envoy_config_route_v3_RouteAction_RequestMirrorPolicy, _envoy_config_route_v3_RouteAction_RequestMirrorPolicy__Output } from '../../../../envoy/config/route/v3/RouteAction.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any.js';
import type { Metadata as _envoy_config_core_v3_Metadata, Metadata__Output as _envoy_config_core_v3_Metadata__Output } from '../../../../envoy/config/core/v3/Metadata.js';

export interface RouteConfiguration {
  'name'?: (string);
  'virtualHosts'?: (_envoy_config_route_v3_VirtualHost)[];
  'internalOnlyHeaders'?: (string)[];
  'responseHeadersToAdd'?: (_envoy_config_core_v3_HeaderValueOption)[];
  'responseHeadersToRemove'?: (string)[];
  'requestHeadersToAdd'?: (_envoy_config_core_v3_HeaderValueOption)[];
  'validateClusters'?: (_google_protobuf_BoolValue | null);
  'requestHeadersToRemove'?: (string)[];
  'vhds'?: (_envoy_config_route_v3_Vhds | null);
  'mostSpecificHeaderMutationsWins'?: (boolean);
  'maxDirectResponseBodySizeBytes'?: (_google_protobuf_UInt32Value | null);
  'clusterSpecifierPlugins'?: (_envoy_config_route_v3_ClusterSpecifierPlugin)[];
  'requestMirrorPolicies'?: (_envoy_config_route_v3_RouteAction_RequestMirrorPolicy)[];
  'ignorePortInHostMatching'?: (boolean);
  'ignorePathParametersInPathMatching'?: (boolean);
  'typedPerFilterConfig'?: ({[key: string]: _google_protobuf_Any});
  'metadata'?: (_envoy_config_core_v3_Metadata | null);
}

export interface RouteConfiguration__Output {
  'name': (string);
  'virtualHosts': (_envoy_config_route_v3_VirtualHost__Output)[];
  'internalOnlyHeaders': (string)[];
  'responseHeadersToAdd': (_envoy_config_core_v3_HeaderValueOption__Output)[];
  'responseHeadersToRemove': (string)[];
  'requestHeadersToAdd': (_envoy_config_core_v3_HeaderValueOption__Output)[];
  'validateClusters': (_google_protobuf_BoolValue__Output | null);
  'requestHeadersToRemove': (string)[];
  'vhds': (_envoy_config_route_v3_Vhds__Output | null);
  'mostSpecificHeaderMutationsWins': (boolean);
  'maxDirectResponseBodySizeBytes': (_google_protobuf_UInt32Value__Output | null);
  'clusterSpecifierPlugins': (_envoy_config_route_v3_ClusterSpecifierPlugin__Output)[];
  'requestMirrorPolicies': (_envoy_config_route_v3_RouteAction_RequestMirrorPolicy__Output)[];
  'ignorePortInHostMatching': (boolean);
  'ignorePathParametersInPathMatching': (boolean);
  'typedPerFilterConfig': ({[key: string]: _google_protobuf_Any__Output});
  'metadata': (_envoy_config_core_v3_Metadata__Output | null);
}
