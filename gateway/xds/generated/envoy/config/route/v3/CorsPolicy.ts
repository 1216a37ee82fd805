// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/route/v3/route_components.proto

import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';
import type { RuntimeFractionalPercent as _envoy_config_core_v3_RuntimeFractionalPercent, RuntimeFractionalPercent__Output as _envoy_config_core_v3_RuntimeFractionalPercent__Output } from '../../../../envoy/config/core/v3/RuntimeFractionalPercent.js';
import type { StringMatcher as _envoy_type_matcher_v3_StringMatcher, StringMatcher__Output as _envoy_type_matcher_v3_StringMatcher__Output } from '../../../../envoy/type/matcher/v3/StringMatcher.js';

export interface CorsPolicy {
  'allowMethods'?: (string);
  'allowHeaders'?: (string);
  'exposeHeaders'?: (string);
  'maxAge'?: (string);
  'allowCredentials'?: (_google_protobuf_BoolValue | null);
  'filterEnabled'?: (_envoy_config_core_v3_RuntimeFractionalPercent | null);
  'shadowEnabled'?: (_envoy_config_core_v3_RuntimeFractionalPercent | null);
  'allowOriginStringMatch'?: (_envoy_type_matcher_v3_StringMatcher)[];
  'allowPrivateNetworkAccess'?: (_google_protobuf_BoolValue | null);
  'forwardNotMatchingPreflights'?: (_google_protobuf_BoolValue | null);
  'enabledSpecifier'?: "filterEnabled";
}

export interface CorsPolicy__Output {
  'allowMethods': (string);
  'allowHeaders': (string);
  'exposeHeaders': (string);
  'maxAge': (string);
  'allowCredentials': (_google_protobuf_BoolValue__Output | null);
  'filterEnabled'?: (_envoy_config_core_v3_RuntimeFractionalPercent__Output | null);
  'shadowEnabled': (_envoy_config_core_v3_RuntimeFractionalPercent__Output | null);
  'allowOriginStringMatch': (_envoy_type_matcher_v3_StringMatcher__Output)[];
  'allowPrivateNetworkAccess': (_google_protobuf_BoolValue__Output | null);
  'forwardNotMatchingPreflights': (_google_protobuf_BoolValue__Output | null);
  'enabledSpecifier'?: "filterEnabled";
}
