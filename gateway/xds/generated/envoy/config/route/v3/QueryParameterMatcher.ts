// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/route/v3/route_components.proto

import type { StringMatcher as _envoy_type_matcher_v3_StringMatcher, StringMatcher__Output as _envoy_type_matcher_v3_StringMatcher__Output } from '../../../../envoy/type/matcher/v3/StringMatcher.js';

export interface QueryParameterMatcher {
  'name'?: (string);
  'stringMatch'?: (_envoy_type_matcher_v3_StringMatcher | null);
  'presentMatch'?: (boolean);
  'queryParameterMatchSpecifier'?: "stringMatch"|"presentMatch";
}

export interface QueryParameterMatcher__Output {
  'name': (string);
  'stringMatch'?: (_envoy_type_matcher_v3_StringMatcher__Output | null);
  'presentMatch'?: (boolean);
  'queryParameterMatchSpecifier'?: "stringMatch"|"presentMatch";
}
