// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/listener/v3/listener_components.proto

import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any.js';
import type { ListenerFilterChainMatchPredicate as _envoy_config_listener_v3_ListenerFilterChainMatchPredicate, ListenerFilterChainMatchPredicate__Output as _envoy_config_listener_v3_ListenerFilterChainMatchPredicate__Output } from '../../../../envoy/config/listener/v3/ListenerFilterChainMatchPredicate.js';
import type { ExtensionConfigSource as _envoy_config_core_v3_ExtensionConfigSource, ExtensionConfigSource__Output as _envoy_config_core_v3_ExtensionConfigSource__Output } from '../../../../envoy/config/core/v3/ExtensionConfigSource.js';

export interface ListenerFilter {
  'name'?: (string);
  'typedConfig'?: (_google_protobuf_Any | null);
  'filterDisabled'?: (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate | null);
  'configDiscovery'?: (_envoy_config_core_v3_ExtensionConfigSource | null);
  'configType'?: "typedConfig"|"configDiscovery";
}

export interface ListenerFilter__Output {
  'name': (string);
  'typedConfig'?: (_google_protobuf_Any__Output | null);
  'filterDisabled': (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate__Output | null);
  'configDiscovery'?: (_envoy_config_core_v3_ExtensionConfigSource__Output | null);
  'configType'?: "typedConfig"|"configDiscovery";
}
