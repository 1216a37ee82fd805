// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto

import type { ConfigSource as _envoy_config_core_v3_ConfigSource, ConfigSource__Output as _envoy_config_core_v3_ConfigSource__Output } from '../../../../../../envoy/config/core/v3/ConfigSource.js';

export interface ScopedRds {
  'scopedRdsConfigSource'?: (_envoy_config_core_v3_ConfigSource | null);
  'srdsResourcesLocator'?: (string);
}

export interface ScopedRds__Output {
  'scopedRdsConfigSource': (_envoy_config_core_v3_ConfigSource__Output | null);
  'srdsResourcesLocator': (string);
}
