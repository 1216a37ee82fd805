// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/route/v3/route_components.proto

import type { Int64Range as _envoy_type_v3_Int64Range, Int64Range__Output as _envoy_type_v3_Int64Range__Output } from '../../../../envoy/type/v3/Int64Range.js';
import type { RegexMatcher as _envoy_type_matcher_v3_RegexMatcher, RegexMatcher__Output as _envoy_type_matcher_v3_RegexMatcher__Output } from '../../../../envoy/type/matcher/v3/RegexMatcher.js';
import type { StringMatcher as _envoy_type_matcher_v3_StringMatcher, StringMatcher__Output as _envoy_type_matcher_v3_StringMatcher__Output } from '../../../../envoy/type/matcher/v3/StringMatcher.js';

export interface HeaderMatcher {
  'name'?: (string);
  'exactMatch'?: (string);
  'rangeMatch'?: (_envoy_type_v3_Int64Range | null);
  'presentMatch'?: (boolean);
  'invertMatch'?: (boolean);
  'prefixMatch'?: (string);
  'suffixMatch'?: (string);
  'safeRegexMatch'?: (_envoy_type_matcher_v3_RegexMatcher | null);
  'containsMatch'?: (string);
  'stringMatch'?: (_envoy_type_matcher_v3_StringMatcher | null);
  'treatMissingHeaderAsEmpty'?: (boolean);
  'headerMatchSpecifier'?: "exactMatch"|"safeRegexMatch"|"rangeMatch"|"presentMatch"|"prefixMatch"|"suffixMatch"|"containsMatch"|"stringMatch";
}

export interface HeaderMatcher__Output {
  'name': (string);
  'exactMatch'?: (string);
  'rangeMatch'?: (_envoy_type_v3_Int64Range__Output | null);
  'presentMatch'?: (boolean);
  'invertMatch': (boolean);
  'prefixMatch'?: (string);
  'suffixMatch'?: (string);
  'safeRegexMatch'?: (_envoy_type_matcher_v3_RegexMatcher__Output | null);
  'containsMatch'?: (string);
  'stringMatch'?: (_envoy_type_matcher_v3_StringMatcher__Output | null);
  'treatMissingHeaderAsEmpty': (boolean);
  'headerMatchSpecifier'?: "exactMatch"|"safeRegexMatch"|"rangeMatch"|"presentMatch"|"prefixMatch"|"suffixMatch"|"containsMatch"|"stringMatch";
}
