// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/filters/http/rbac/v3/rbac.proto

import type { RBAC as _envoy_config_rbac_v3_RBAC, RBAC__Output as _envoy_config_rbac_v3_RBAC__Output } from '../../../../../../envoy/config/rbac/v3/RBAC.js';
import type { Matcher as _xds_type_matcher_v3_Matcher, Matcher__Output as _xds_type_matcher_v3_Matcher__Output } from '../../../../../../xds/type/matcher/v3/Matcher.js';

export interface RBAC {
  'rules'?: (_envoy_config_rbac_v3_RBAC | null);
  'shadowRules'?: (_envoy_config_rbac_v3_RBAC | null);
  'shadowRulesStatPrefix'?: (string);
  'matcher'?: (_xds_type_matcher_v3_Matcher | null);
  'shadowMatcher'?: (_xds_type_matcher_v3_Matcher | null);
  'rulesStatPrefix'?: (string);
  'trackPerRuleStats'?: (boolean);
}

export interface RBAC__Output {
  'rules': (_envoy_config_rbac_v3_RBAC__Output | null);
  'shadowRules': (_envoy_config_rbac_v3_RBAC__Output | null);
  'shadowRulesStatPrefix': (string);
  'matcher': (_xds_type_matcher_v3_Matcher__Output | null);
  'shadowMatcher': (_xds_type_matcher_v3_Matcher__Output | null);
  'rulesStatPrefix': (string);
  'trackPerRuleStats': (boolean);
}
