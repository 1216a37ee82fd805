// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/protocol.proto

import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { QuicKeepAliveSettings as _envoy_config_core_v3_QuicKeepAliveSettings, QuicKeepAliveSettings__Output as _envoy_config_core_v3_QuicKeepAliveSettings__Output } from '../../../../envoy/config/core/v3/QuicKeepAliveSettings.js';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../../google/protobuf/Duration.js';

export interface QuicProtocolOptions {
  'maxConcurrentStreams'?: (_google_protobuf_UInt32Value | null);
  'initialStreamWindowSize'?: (_google_protobuf_UInt32Value | null);
  'initialConnectionWindowSize'?: (_google_protobuf_UInt32Value | null);
  'numTimeoutsToTriggerPortMigration'?: (_google_protobuf_UInt32Value | null);
  'connectionKeepalive'?: (_envoy_config_core_v3_QuicKeepAliveSettings | null);
  'connectionOptions'?: (string);
  'clientConnectionOptions'?: (string);
  'idleNetworkTimeout'?: (_google_protobuf_Duration | null);
}

export interface QuicProtocolOptions__Output {
  'maxConcurrentStreams': (_google_protobuf_UInt32Value__Output | null);
  'initialStreamWindowSize': (_google_protobuf_UInt32Value__Output | null);
  'initialConnectionWindowSize': (_google_protobuf_UInt32Value__Output | null);
  'numTimeoutsToTriggerPortMigration': (_google_protobuf_UInt32Value__Output | null);
  'connectionKeepalive': (_envoy_config_core_v3_QuicKeepAliveSettings__Output | null);
  'connectionOptions': (string);
  'clientConnectionOptions': (string);
  'idleNetworkTimeout': (_google_protobuf_Duration__Output | null);
}
