// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto

import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from '../../../../../../google/protobuf/Any.js';

export interface RequestIDExtension {
  'typedConfig'?: (_google_protobuf_Any | null);
}

export interface RequestIDExtension__Output {
  'typedConfig': (_google_protobuf_Any__Output | null);
}
