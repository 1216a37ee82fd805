// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/listener/v3/listener_components.proto

import type { ListenerFilterChainMatchPredicate as _envoy_config_listener_v3_ListenerFilterChainMatchPredicate, ListenerFilterChainMatchPredicate__Output as _envoy_config_listener_v3_ListenerFilterChainMatchPredicate__Output } from '../../../../envoy/config/listener/v3/ListenerFilterChainMatchPredicate.js';
import type { Int32Range as _envoy_type_v3_Int32Range, Int32Range__Output as _envoy_type_v3_Int32Range__Output } from '../../../../envoy/type/v3/Int32Range.js';

export interface _envoy_config_listener_v3_ListenerFilterChainMatchPredicate_MatchSet {
  'rules'?: (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate)[];
}

export interface _envoy_config_listener_v3_ListenerFilterChainMatchPredicate_MatchSet__Output {
  'rules': (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate__Output)[];
}

export interface ListenerFilterChainMatchPredicate {
  'orMatch'?: (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate_MatchSet | null);
  'andMatch'?: (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate_MatchSet | null);
  'notMatch'?: (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate | null);
  'anyMatch'?: (boolean);
  'destinationPortRange'?: (_envoy_type_v3_Int32Range | null);
  'rule'?: "orMatch"|"andMatch"|"notMatch"|"anyMatch"|"destinationPortRange";
}

export interface ListenerFilterChainMatchPredicate__Output {
  'orMatch'?: (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate_MatchSet__Output | null);
  'andMatch'?: (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate_MatchSet__Output | null);
  'notMatch'?: (_envoy_config_listener_v3_ListenerFilterChainMatchPredicate__Output | null);
  'anyMatch'?: (boolean);
  'destinationPortRange'?: (_envoy_type_v3_Int32Range__Output | null);
  'rule'?: "orMatch"|"andMatch"|"notMatch"|"anyMatch"|"destinationPortRange";
}
