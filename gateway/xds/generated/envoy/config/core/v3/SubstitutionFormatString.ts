// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/substitution_format_string.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../../../google/protobuf/Struct.js';
import type { DataSource as _envoy_config_core_v3_DataSource, DataSource__Output as _envoy_config_core_v3_DataSource__Output } from '../../../../envoy/config/core/v3/DataSource.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../envoy/config/core/v3/TypedExtensionConfig.js';
import type { JsonFormatOptions as _envoy_config_core_v3_JsonFormatOptions, JsonFormatOptions__Output as _envoy_config_core_v3_JsonFormatOptions__Output } from '../../../../envoy/config/core/v3/JsonFormatOptions.js';

export interface SubstitutionFormatString {
  'textFormat'?: (string);
  'jsonFormat'?: (_google_protobuf_Struct | null);
  'omitEmptyValues'?: (boolean);
  'contentType'?: (string);
  'textFormatSource'?: (_envoy_config_core_v3_DataSource | null);
  'formatters'?: (_envoy_config_core_v3_TypedExtensionConfig)[];
  'jsonFormatOptions'?: (_envoy_config_core_v3_JsonFormatOptions | null);
  'format'?: "textFormat"|"jsonFormat"|"textFormatSource";
}

export interface SubstitutionFormatString__Output {
  'textFormat'?: (string);
  'jsonFormat'?: (_google_protobuf_Struct__Output | null);
  'omitEmptyValues': (boolean);
  'contentType': (string);
  'textFormatSource'?: (_envoy_config_core_v3_DataSource__Output | null);
  'formatters': (_envoy_config_core_v3_TypedExtensionConfig__Output)[];
  'jsonFormatOptions': (_envoy_config_core_v3_JsonFormatOptions__Output | null);
  'format'?: "textFormat"|"jsonFormat"|"textFormatSource";
}
