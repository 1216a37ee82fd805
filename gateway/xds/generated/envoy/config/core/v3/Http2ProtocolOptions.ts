// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/config/core/v3/protocol.proto

import type { UInt32Value as _google_protobuf_UInt32Value, UInt32Value__Output as _google_protobuf_UInt32Value__Output } from '../../../../google/protobuf/UInt32Value.js';
import type { BoolValue as _google_protobuf_BoolValue, BoolValue__Output as _google_protobuf_BoolValue__Output } from '../../../../google/protobuf/BoolValue.js';
import type { KeepaliveSettings as _envoy_config_core_v3_KeepaliveSettings, KeepaliveSettings__Output as _envoy_config_core_v3_KeepaliveSettings__Output } from '../../../../envoy/config/core/v3/KeepaliveSettings.js';

export interface _envoy_config_core_v3_Http2ProtocolOptions_SettingsParameter {
  'identifier'?: (_google_protobuf_UInt32Value | null);
  'value'?: (_google_protobuf_UInt32Value | null);
}

export interface _envoy_config_core_v3_Http2ProtocolOptions_SettingsParameter__Output {
  'identifier': (_google_protobuf_UInt32Value__Output | null);
  'value': (_google_protobuf_UInt32Value__Output | null);
}

export interface Http2ProtocolOptions {
  'hpackTableSize'?: (_google_protobuf_UInt32Value | null);
  'maxConcurrentStreams'?: (_google_protobuf_UInt32Value | null);
  'initialStreamWindowSize'?: (_google_protobuf_UInt32Value | null);
  'initialConnectionWindowSize'?: (_google_protobuf_UInt32Value | null);
  'allowConnect'?: (boolean);
  'allowMetadata'?: (boolean);
  'maxOutboundFrames'?: (_google_protobuf_UInt32Value | null);
  'maxOutboundControlFrames'?: (_google_protobuf_UInt32Value | null);
  'maxConsecutiveInboundFramesWithEmptyPayload'?: (_google_protobuf_UInt32Value | null);
  'maxInboundPriorityFramesPerStream'?: (_google_protobuf_UInt32Value | null);
  'maxInboundWindowUpdateFramesPerDataFrameSent'?: (_google_protobuf_UInt32Value | null);
  'streamErrorOnInvalidHttpMessaging'?: (boolean);
  'customSettingsParameters'?: (_envoy_config_core_v3_Http2ProtocolOptions_SettingsParameter)[];
  'overrideStreamErrorOnInvalidHttpMessage'?: (_google_protobuf_BoolValue | null);
  'connectionKeepalive'?: (_envoy_config_core_v3_KeepaliveSettings | null);
  'useOghttp2Codec'?: (_google_protobuf_BoolValue | null);
}

export interface Http2ProtocolOptions__Output {
  'hpackTableSize': (_google_protobuf_UInt32Value__Output | null);
  'maxConcurrentStreams': (_google_protobuf_UInt32Value__Output | null);
  'initialStreamWindowSize': (_google_protobuf_UInt32Value__Output | null);
  'initialConnectionWindowSize': (_google_protobuf_UInt32Value__Output | null);
  'allowConnect': (boolean);
  'allowMetadata': (boolean);
  'maxOutboundFrames': (_google_protobuf_UInt32Value__Output | null);
  'maxOutboundControlFrames': (_google_protobuf_UInt32Value__Output | null);
  'maxConsecutiveInboundFramesWithEmptyPayload': (_google_protobuf_UInt32Value__Output | null);
  'maxInboundPriorityFramesPerStream': (_google_protobuf_UInt32Value__Output | null);
  'maxInboundWindowUpdateFramesPerDataFrameSent': (_google_protobuf_UInt32Value__Output | null);
  'streamErrorOnInvalidHttpMessaging': (boolean);
  'customSettingsParameters': (_envoy_config_core_v3_Http2ProtocolOptions_SettingsParameter__Output)[];
  'overrideStreamErrorOnInvalidHttpMessage': (_google_protobuf_BoolValue__Output | null);
  'connectionKeepalive': (_envoy_config_core_v3_KeepaliveSettings__Output | null);
  'useOghttp2Codec': (_google_protobuf_BoolValue__Output | null);
}
