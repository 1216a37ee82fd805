// Original file: node_modules/@grpc/grpc-js-xds/deps/xds/xds/type/matcher/v3/matcher.proto

import type { Matcher as _xds_type_matcher_v3_Matcher, Matcher__Output as _xds_type_matcher_v3_Matcher__Output } from '../../../../xds/type/matcher/v3/Matcher.js';
import type { TypedExtensionConfig as _xds_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _xds_core_v3_TypedExtensionConfig__Output } from '../../../../xds/core/v3/TypedExtensionConfig.js';
import type { StringMatcher as _xds_type_matcher_v3_StringMatcher, StringMatcher__Output as _xds_type_matcher_v3_StringMatcher__Output } from '../../../../xds/type/matcher/v3/StringMatcher.js';

export interface _xds_type_matcher_v3_Matcher_MatcherList_FieldMatcher {
  'predicate'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate | null);
  'onMatch'?: (_xds_type_matcher_v3_Matcher_OnMatch | null);
}

export interface _xds_type_matcher_v3_Matcher_MatcherList_FieldMatcher__Output {
  'predicate': (_xds_type_matcher_v3_Matcher_MatcherList_Predicate__Output | null);
  'onMatch': (_xds_type_matcher_v3_Matcher_OnMatch__Output | null);
}

export interface _xds_type_matcher_v3_Matcher_MatcherTree_MatchMap {
  'map'?: ({[key: string]: _xds_type_matcher_v3_Matcher_OnMatch});
}

export interface _xds_type_matcher_v3_Matcher_MatcherTree_MatchMap__Output {
  'map': ({[key: string]: _xds_type_matcher_v3_Matcher_OnMatch__Output});
}

export interface _xds_type_matcher_v3_Matcher_MatcherList {
  'matchers'?: (_xds_type_matcher_v3_Matcher_MatcherList_FieldMatcher)[];
}

export interface _xds_type_matcher_v3_Matcher_MatcherList__Output {
  'matchers': (_xds_type_matcher_v3_Matcher_MatcherList_FieldMatcher__Output)[];
}

export interface _xds_type_matcher_v3_Matcher_MatcherTree {
  'input'?: (_xds_core_v3_TypedExtensionConfig | null);
  'exactMatchMap'?: (_xds_type_matcher_v3_Matcher_MatcherTree_MatchMap | null);
  'prefixMatchMap'?: (_xds_type_matcher_v3_Matcher_MatcherTree_MatchMap | null);
  'customMatch'?: (_xds_core_v3_TypedExtensionConfig | null);
  'treeType'?: "exactMatchMap"|"prefixMatchMap"|"customMatch";
}

export interface _xds_type_matcher_v3_Matcher_MatcherTree__Output {
  'input': (_xds_core_v3_TypedExtensionConfig__Output | null);
  'exactMatchMap'?: (_xds_type_matcher_v3_Matcher_MatcherTree_MatchMap__Output | null);
  'prefixMatchMap'?: (_xds_type_matcher_v3_Matcher_MatcherTree_MatchMap__Output | null);
  'customMatch'?: (_xds_core_v3_TypedExtensionConfig__Output | null);
  'treeType'?: "exactMatchMap"|"prefixMatchMap"|"customMatch";
}

export interface _xds_type_matcher_v3_Matcher_OnMatch {
  'matcher'?: (_xds_type_matcher_v3_Matcher | null);
  'action'?: (_xds_core_v3_TypedExtensionConfig | null);
  'onMatch'?: "matcher"|"action";
}

export interface _xds_type_matcher_v3_Matcher_OnMatch__Output {
  'matcher'?: (_xds_type_matcher_v3_Matcher__Output | null);
  'action'?: (_xds_core_v3_TypedExtensionConfig__Output | null);
  'onMatch'?: "matcher"|"action";
}

export interface _xds_type_matcher_v3_Matcher_MatcherList_Predicate {
  'singlePredicate'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate_SinglePredicate | null);
  'orMatcher'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate_PredicateList | null);
  'andMatcher'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate_PredicateList | null);
  'notMatcher'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate | null);
  'matchType'?: "singlePredicate"|"orMatcher"|"andMatcher"|"notMatcher";
}

export interface _xds_type_matcher_v3_Matcher_MatcherList_Predicate__Output {
  'singlePredicate'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate_SinglePredicate__Output | null);
  'orMatcher'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate_PredicateList__Output | null);
  'andMatcher'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate_PredicateList__Output | null);
  'notMatcher'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate__Output | null);
  'matchType'?: "singlePredicate"|"orMatcher"|"andMatcher"|"notMatcher";
}

export interface _xds_type_matcher_v3_Matcher_MatcherList_Predicate_PredicateList {
  'predicate'?: (_xds_type_matcher_v3_Matcher_MatcherList_Predicate)[];
}

export interface _xds_type_matcher_v3_Matcher_MatcherList_Predicate_PredicateList__Output {
  'predicate': (_xds_type_matcher_v3_Matcher_MatcherList_Predicate__Output)[];
}

export interface _xds_type_matcher_v3_Matcher_MatcherList_Predicate_SinglePredicate {
  'input'?: (_xds_core_v3_TypedExtensionConfig | null);
  'valueMatch'?: (_xds_type_matcher_v3_StringMatcher | null);
  'customMatch'?: (_xds_core_v3_TypedExtensionConfig | null);
  'matcher'?: "valueMatch"|"customMatch";
}

export interface _xds_type_matcher_v3_Matcher_MatcherList_Predicate_SinglePredicate__Output {
  'input': (_xds_core_v3_TypedExtensionConfig__Output | null);
  'valueMatch'?: (_xds_type_matcher_v3_StringMatcher__Output | null);
  'customMatch'?: (_xds_core_v3_TypedExtensionConfig__Output | null);
  'matcher'?: "valueMatch"|"customMatch";
}

export interface Matcher {
  'matcherList'?: (_xds_type_matcher_v3_Matcher_MatcherList | null);
  'matcherTree'?: (_xds_type_matcher_v3_Matcher_MatcherTree | null);
  'onNoMatch'?: (_xds_type_matcher_v3_Matcher_OnMatch | null);
  'matcherType'?: "matcherList"|"matcherTree";
}

export interface Matcher__Output {
  'matcherList'?: (_xds_type_matcher_v3_Matcher_MatcherList__Output | null);
  'matcherTree'?: (_xds_type_matcher_v3_Matcher_MatcherTree__Output | null);
  'onNoMatch': (_xds_type_matcher_v3_Matcher_OnMatch__Output | null);
  'matcherType'?: "matcherList"|"matcherTree";
}
