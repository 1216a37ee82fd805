// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/type/matcher/v3/value.proto

import type { DoubleMatcher as _envoy_type_matcher_v3_DoubleMatcher, DoubleMatcher__Output as _envoy_type_matcher_v3_DoubleMatcher__Output } from '../../../../envoy/type/matcher/v3/DoubleMatcher.js';
import type { StringMatcher as _envoy_type_matcher_v3_StringMatcher, StringMatcher__Output as _envoy_type_matcher_v3_StringMatcher__Output } from '../../../../envoy/type/matcher/v3/StringMatcher.js';
import type { ListMatcher as _envoy_type_matcher_v3_ListMatcher, ListMatcher__Output as _envoy_type_matcher_v3_ListMatcher__Output } from '../../../../envoy/type/matcher/v3/ListMatcher.js';
import type { OrMatcher as _envoy_type_matcher_v3_OrMatcher, OrMatcher__Output as _envoy_type_matcher_v3_OrMatcher__Output } from '../../../../envoy/type/matcher/v3/OrMatcher.js';

export interface _envoy_type_matcher_v3_ValueMatcher_NullMatch {
}

export interface _envoy_type_matcher_v3_ValueMatcher_NullMatch__Output {
}

export interface ValueMatcher {
  'nullMatch'?: (_envoy_type_matcher_v3_ValueMatcher_NullMatch | null);
  'doubleMatch'?: (_envoy_type_matcher_v3_DoubleMatcher | null);
  'stringMatch'?: (_envoy_type_matcher_v3_StringMatcher | null);
  'boolMatch'?: (boolean);
  'presentMatch'?: (boolean);
  'listMatch'?: (_envoy_type_matcher_v3_ListMatcher | null);
  'orMatch'?: (_envoy_type_matcher_v3_OrMatcher | null);
  'matchPattern'?: "nullMatch"|"doubleMatch"|"stringMatch"|"boolMatch"|"presentMatch"|"listMatch"|"orMatch";
}

export interface ValueMatcher__Output {
  'nullMatch'?: (_envoy_type_matcher_v3_ValueMatcher_NullMatch__Output | null);
  'doubleMatch'?: (_envoy_type_matcher_v3_DoubleMatcher__Output | null);
  'stringMatch'?: (_envoy_type_matcher_v3_StringMatcher__Output | null);
  'boolMatch'?: (boolean);
  'presentMatch'?: (boolean);
  'listMatch'?: (_envoy_type_matcher_v3_ListMatcher__Output | null);
  'orMatch'?: (_envoy_type_matcher_v3_OrMatcher__Output | null);
  'matchPattern'?: "nullMatch"|"doubleMatch"|"stringMatch"|"boolMatch"|"presentMatch"|"listMatch"|"orMatch";
}
