// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/config_source.proto

import type { ConfigSource as _envoy_config_core_v3_ConfigSource, ConfigSource__Output as _envoy_config_core_v3_ConfigSource__Output } from '../../../../envoy/config/core/v3/ConfigSource.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../google/protobuf/Any.js';

export interface ExtensionConfigSource {
  'configSource'?: (_envoy_config_core_v3_ConfigSource | null);
  'defaultConfig'?: (_google_protobuf_Any | null);
  'applyDefaultConfigWithoutWarming'?: (boolean);
  'typeUrls'?: (string)[];
}

export interface ExtensionConfigSource__Output {
  'configSource': (_envoy_config_core_v3_ConfigSource__Output | null);
  'defaultConfig': (_google_protobuf_Any__Output | null);
  'applyDefaultConfigWithoutWarming': (boolean);
  'typeUrls': (string)[];
}
