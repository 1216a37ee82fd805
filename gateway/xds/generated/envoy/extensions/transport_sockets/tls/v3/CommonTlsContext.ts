// Original file: node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/transport_sockets/tls/v3/tls.proto

import type { TlsParameters as _envoy_extensions_transport_sockets_tls_v3_TlsParameters, TlsParameters__Output as _envoy_extensions_transport_sockets_tls_v3_TlsParameters__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/TlsParameters.js';
import type { TlsCertificate as _envoy_extensions_transport_sockets_tls_v3_TlsCertificate, TlsCertificate__Output as _envoy_extensions_transport_sockets_tls_v3_TlsCertificate__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/TlsCertificate.js';
import type { CertificateValidationContext as _envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext, CertificateValidationContext__Output as _envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/CertificateValidationContext.js';
import type { SdsSecretConfig as _envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig, SdsSecretConfig__Output as _envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/SdsSecretConfig.js';
import type { TypedExtensionConfig as _envoy_config_core_v3_TypedExtensionConfig, TypedExtensionConfig__Output as _envoy_config_core_v3_TypedExtensionConfig__Output } from '../../../../../envoy/config/core/v3/TypedExtensionConfig.js';
import type { CertificateProviderPluginInstance as _envoy_extensions_transport_sockets_tls_v3_CertificateProviderPluginInstance, CertificateProviderPluginInstance__Output as _envoy_extensions_transport_sockets_tls_v3_CertificateProviderPluginInstance__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/CertificateProviderPluginInstance.js';
import type { TlsKeyLog as _envoy_extensions_transport_sockets_tls_v3_TlsKeyLog, TlsKeyLog__Output as _envoy_extensions_transport_sockets_tls_v3_TlsKeyLog__Output } from '../../../../../envoy/extensions/transport_sockets/tls/v3/TlsKeyLog.js';

export interface _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProvider {
  'name'?: (string);
  'typedConfig'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'config'?: "typedConfig";
}

export interface _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProvider__Output {
  'name': (string);
  'typedConfig'?: (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'config'?: "typedConfig";
}

export interface _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProviderInstance {
  'instanceName'?: (string);
  'certificateName'?: (string);
}

export interface _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProviderInstance__Output {
  'instanceName': (string);
  'certificateName': (string);
}

export interface _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CombinedCertificateValidationContext {
  'defaultValidationContext'?: (_envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext | null);
  'validationContextSdsSecretConfig'?: (_envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig | null);
  'validationContextCertificateProvider'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProvider | null);
  'validationContextCertificateProviderInstance'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProviderInstance | null);
}

export interface _envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CombinedCertificateValidationContext__Output {
  'defaultValidationContext': (_envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext__Output | null);
  'validationContextSdsSecretConfig': (_envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig__Output | null);
  'validationContextCertificateProvider': (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProvider__Output | null);
  'validationContextCertificateProviderInstance': (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProviderInstance__Output | null);
}

export interface CommonTlsContext {
  'tlsParams'?: (_envoy_extensions_transport_sockets_tls_v3_TlsParameters | null);
  'tlsCertificates'?: (_envoy_extensions_transport_sockets_tls_v3_TlsCertificate)[];
  'validationContext'?: (_envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext | null);
  'alpnProtocols'?: (string)[];
  'tlsCertificateSdsSecretConfigs'?: (_envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig)[];
  'validationContextSdsSecretConfig'?: (_envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig | null);
  'combinedValidationContext'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CombinedCertificateValidationContext | null);
  'tlsCertificateCertificateProvider'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProvider | null);
  'validationContextCertificateProvider'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProvider | null);
  'tlsCertificateCertificateProviderInstance'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProviderInstance | null);
  'validationContextCertificateProviderInstance'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProviderInstance | null);
  'customHandshaker'?: (_envoy_config_core_v3_TypedExtensionConfig | null);
  'tlsCertificateProviderInstance'?: (_envoy_extensions_transport_sockets_tls_v3_CertificateProviderPluginInstance | null);
  'keyLog'?: (_envoy_extensions_transport_sockets_tls_v3_TlsKeyLog | null);
  'validationContextType'?: "validationContext"|"validationContextSdsSecretConfig"|"combinedValidationContext"|"validationContextCertificateProvider"|"validationContextCertificateProviderInstance";
}

export interface CommonTlsContext__Output {
  'tlsParams': (_envoy_extensions_transport_sockets_tls_v3_TlsParameters__Output | null);
  'tlsCertificates': (_envoy_extensions_transport_sockets_tls_v3_TlsCertificate__Output)[];
  'validationContext'?: (_envoy_extensions_transport_sockets_tls_v3_CertificateValidationContext__Output | null);
  'alpnProtocols': (string)[];
  'tlsCertificateSdsSecretConfigs': (_envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig__Output)[];
  'validationContextSdsSecretConfig'?: (_envoy_extensions_transport_sockets_tls_v3_SdsSecretConfig__Output | null);
  'combinedValidationContext'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CombinedCertificateValidationContext__Output | null);
  'tlsCertificateCertificateProvider': (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProvider__Output | null);
  'validationContextCertificateProvider'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProvider__Output | null);
  'tlsCertificateCertificateProviderInstance': (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProviderInstance__Output | null);
  'validationContextCertificateProviderInstance'?: (_envoy_extensions_transport_sockets_tls_v3_CommonTlsContext_CertificateProviderInstance__Output | null);
  'customHandshaker': (_envoy_config_core_v3_TypedExtensionConfig__Output | null);
  'tlsCertificateProviderInstance': (_envoy_extensions_transport_sockets_tls_v3_CertificateProviderPluginInstance__Output | null);
  'keyLog': (_envoy_extensions_transport_sockets_tls_v3_TlsKeyLog__Output | null);
  'validationContextType'?: "validationContext"|"validationContextSdsSecretConfig"|"combinedValidationContext"|"validationContextCertificateProvider"|"validationContextCertificateProviderInstance";
}
