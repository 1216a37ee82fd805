// Original file: node_modules/@grpc/grpc-js-xds/deps/googleapis/google/api/expr/v1alpha1/syntax.proto

import type { Constant as _google_api_expr_v1alpha1_Constant, Constant__Output as _google_api_expr_v1alpha1_Constant__Output } from '../../../../google/api/expr/v1alpha1/Constant.js';
import type { Expr as _google_api_expr_v1alpha1_Expr, Expr__Output as _google_api_expr_v1alpha1_Expr__Output } from '../../../../google/api/expr/v1alpha1/Expr.js';
import type { Long } from '@grpc/proto-loader';

export interface _google_api_expr_v1alpha1_Expr_Call {
  'target'?: (_google_api_expr_v1alpha1_Expr | null);
  'function'?: (string);
  'args'?: (_google_api_expr_v1alpha1_Expr)[];
}

export interface _google_api_expr_v1alpha1_Expr_Call__Output {
  'target': (_google_api_expr_v1alpha1_Expr__Output | null);
  'function': (string);
  'args': (_google_api_expr_v1alpha1_Expr__Output)[];
}

export interface _google_api_expr_v1alpha1_Expr_Comprehension {
  'iterVar'?: (string);
  'iterRange'?: (_google_api_expr_v1alpha1_Expr | null);
  'accuVar'?: (string);
  'accuInit'?: (_google_api_expr_v1alpha1_Expr | null);
  'loopCondition'?: (_google_api_expr_v1alpha1_Expr | null);
  'loopStep'?: (_google_api_expr_v1alpha1_Expr | null);
  'result'?: (_google_api_expr_v1alpha1_Expr | null);
}

export interface _google_api_expr_v1alpha1_Expr_Comprehension__Output {
  'iterVar': (string);
  'iterRange': (_google_api_expr_v1alpha1_Expr__Output | null);
  'accuVar': (string);
  'accuInit': (_google_api_expr_v1alpha1_Expr__Output | null);
  'loopCondition': (_google_api_expr_v1alpha1_Expr__Output | null);
  'loopStep': (_google_api_expr_v1alpha1_Expr__Output | null);
  'result': (_google_api_expr_v1alpha1_Expr__Output | null);
}

export interface _google_api_expr_v1alpha1_Expr_CreateList {
  'elements'?: (_google_api_expr_v1alpha1_Expr)[];
}

export interface _google_api_expr_v1alpha1_Expr_CreateList__Output {
  'elements': (_google_api_expr_v1alpha1_Expr__Output)[];
}

export interface _google_api_expr_v1alpha1_Expr_CreateStruct {
  'messageName'?: (string);
  'entries'?: (_google_api_expr_v1alpha1_Expr_CreateStruct_Entry)[];
}

export interface _google_api_expr_v1alpha1_Expr_CreateStruct__Output {
  'messageName': (string);
  'entries': (_google_api_expr_v1alpha1_Expr_CreateStruct_Entry__Output)[];
}

export interface _google_api_expr_v1alpha1_Expr_CreateStruct_Entry {
  'id'?: (number | string | Long);
  'fieldKey'?: (string);
  'mapKey'?: (_google_api_expr_v1alpha1_Expr | null);
  'value'?: (_google_api_expr_v1alpha1_Expr | null);
  'keyKind'?: "fieldKey"|"mapKey";
}

export interface _google_api_expr_v1alpha1_Expr_CreateStruct_Entry__Output {
  'id': (string);
  'fieldKey'?: (string);
  'mapKey'?: (_google_api_expr_v1alpha1_Expr__Output | null);
  'value': (_google_api_expr_v1alpha1_Expr__Output | null);
  'keyKind'?: "fieldKey"|"mapKey";
}

export interface _google_api_expr_v1alpha1_Expr_Ident {
  'name'?: (string);
}

export interface _google_api_expr_v1alpha1_Expr_Ident__Output {
  'name': (string);
}

export interface _google_api_expr_v1alpha1_Expr_Select {
  'operand'?: (_google_api_expr_v1alpha1_Expr | null);
  'field'?: (string);
  'testOnly'?: (boolean);
}

export interface _google_api_expr_v1alpha1_Expr_Select__Output {
  'operand': (_google_api_expr_v1alpha1_Expr__Output | null);
  'field': (string);
  'testOnly': (boolean);
}

export interface Expr {
  'id'?: (number | string | Long);
  'constExpr'?: (_google_api_expr_v1alpha1_Constant | null);
  'identExpr'?: (_google_api_expr_v1alpha1_Expr_Ident | null);
  'selectExpr'?: (_google_api_expr_v1alpha1_Expr_Select | null);
  'callExpr'?: (_google_api_expr_v1alpha1_Expr_Call | null);
  'listExpr'?: (_google_api_expr_v1alpha1_Expr_CreateList | null);
  'structExpr'?: (_google_api_expr_v1alpha1_Expr_CreateStruct | null);
  'comprehensionExpr'?: (_google_api_expr_v1alpha1_Expr_Comprehension | null);
  'exprKind'?: "constExpr"|"identExpr"|"selectExpr"|"callExpr"|"listExpr"|"structExpr"|"comprehensionExpr";
}

export interface Expr__Output {
  'id': (string);
  'constExpr'?: (_google_api_expr_v1alpha1_Constant__Output | null);
  'identExpr'?: (_google_api_expr_v1alpha1_Expr_Ident__Output | null);
  'selectExpr'?: (_google_api_expr_v1alpha1_Expr_Select__Output | null);
  'callExpr'?: (_google_api_expr_v1alpha1_Expr_Call__Output | null);
  'listExpr'?: (_google_api_expr_v1alpha1_Expr_CreateList__Output | null);
  'structExpr'?: (_google_api_expr_v1alpha1_Expr_CreateStruct__Output | null);
  'comprehensionExpr'?: (_google_api_expr_v1alpha1_Expr_Comprehension__Output | null);
  'exprKind'?: "constExpr"|"identExpr"|"selectExpr"|"callExpr"|"listExpr"|"structExpr"|"comprehensionExpr";
}
