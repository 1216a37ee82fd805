// Original file: node_modules/@grpc/grpc-js-xds/deps/xds/xds/type/matcher/v3/regex.proto


export interface _xds_type_matcher_v3_RegexMatcher_GoogleRE2 {
}

export interface _xds_type_matcher_v3_RegexMatcher_GoogleRE2__Output {
}

export interface RegexMatcher {
  'googleRe2'?: (_xds_type_matcher_v3_RegexMatcher_GoogleRE2 | null);
  'regex'?: (string);
  'engineType'?: "googleRe2";
}

export interface RegexMatcher__Output {
  'googleRe2'?: (_xds_type_matcher_v3_RegexMatcher_GoogleRE2__Output | null);
  'regex': (string);
  'engineType'?: "googleRe2";
}
