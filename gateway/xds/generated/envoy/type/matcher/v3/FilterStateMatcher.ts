// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/type/matcher/v3/filter_state.proto

import type { StringMatcher as _envoy_type_matcher_v3_StringMatcher, StringMatcher__Output as _envoy_type_matcher_v3_StringMatcher__Output } from '../../../../envoy/type/matcher/v3/StringMatcher.js';

export interface FilterStateMatcher {
  'key'?: (string);
  'stringMatch'?: (_envoy_type_matcher_v3_StringMatcher | null);
  'matcher'?: "stringMatch";
}

export interface FilterStateMatcher__Output {
  'key': (string);
  'stringMatch'?: (_envoy_type_matcher_v3_StringMatcher__Output | null);
  'matcher'?: "stringMatch";
}
