// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/service/discovery/v3/discovery.proto

import type { Resource as _envoy_service_discovery_v3_Resource, Resource__Output as _envoy_service_discovery_v3_Resource__Output } from '../../../../envoy/service/discovery/v3/Resource.js';
import type { ControlPlane as _envoy_config_core_v3_ControlPlane, ControlPlane__Output as _envoy_config_core_v3_ControlPlane__Output } from '../../../../envoy/config/core/v3/ControlPlane.js';
import type { ResourceName as _envoy_service_discovery_v3_ResourceName, ResourceName__Output as _envoy_service_discovery_v3_ResourceName__Output } from '../../../../envoy/service/discovery/v3/ResourceName.js';

export interface DeltaDiscoveryResponse {
  'systemVersionInfo'?: (string);
  'resources'?: (_envoy_service_discovery_v3_Resource)[];
  'typeUrl'?: (string);
  'nonce'?: (string);
  'removedResources'?: (string)[];
  'controlPlane'?: (_envoy_config_core_v3_ControlPlane | null);
  'removedResourceNames'?: (_envoy_service_discovery_v3_ResourceName)[];
}

export interface DeltaDiscoveryResponse__Output {
  'systemVersionInfo': (string);
  'resources': (_envoy_service_discovery_v3_Resource__Output)[];
  'typeUrl': (string);
  'nonce': (string);
  'removedResources': (string)[];
  'controlPlane': (_envoy_config_core_v3_ControlPlane__Output | null);
  'removedResourceNames': (_envoy_service_discovery_v3_ResourceName__Output)[];
}
