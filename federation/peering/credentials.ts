import { createSecureContext, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Svid, TrustReader } from '../trust/index.js';
import { mtlsClientOptions, parseSpiffeId } from '../trust/index.js';
import { MAX_MESSAGE_BYTES } from './proto.js';

export interface PeerCredentialsOptions {
  svid: Svid;
  /** Must hold the peer's bundle; only that trust domain's roots are used. */
  trust: TrustReader;
  expectTrustDomain: string;
  /**
   * Present our SVID as client certificate. False for Redeem: the issuer cannot verify our
   * certificate yet, and its listener closes connections whose certificate fails verification
   * (design brief: accept only certificates that chain to a held bundle of their own domain).
   */
  presentCertificate: boolean;
  /** Learns the SPIFFE ID of the server certificate once it passed the checks. */
  onServerIdentity?: (spiffeId: string) => void;
}

/**
 * gRPC channel credentials for dialling a peer's federation port: TLS 1.3, trusting ONLY the
 * peer trust domain's roots, ignoring host names and instead requiring the server leaf's
 * SPIFFE ID to be a gateway of that trust domain (`spiffe://<td>/gateway/<name>`): any
 * gateway replica of the peer may answer, but no workload certificate of that domain can
 * pose as its federation endpoint.
 */
export function peerCredentials(options: PeerCredentialsOptions): grpc.ChannelCredentials {
  const tlsOptions = mtlsClientOptions({
    svid: options.svid, trust: options.trust, expectTrustDomain: options.expectTrustDomain, alpn: ['h2'],
  });
  const baseCheck = tlsOptions.checkServerIdentity;
  const context = createSecureContext({
    ca: tlsOptions.ca,
    minVersion: 'TLSv1.3',
    ...(options.presentCertificate ? { cert: tlsOptions.cert, key: tlsOptions.key } : {}),
  });
  return grpc.credentials.createFromSecureContext(context, {
    checkServerIdentity: (host: string, cert: PeerCertificate): Error | undefined => {
      const base = baseCheck?.(host, cert);
      if (base !== undefined) return base;
      const uri = /(?:^|,\s*)URI:([^,\s]+)/.exec(cert.subjectaltname ?? '')?.[1];
      let path = '';
      try {
        path = uri === undefined ? '' : parseSpiffeId(uri).path;
      } catch {
        path = '';
      }
      if (uri === undefined || !path.startsWith('/gateway/')) {
        return new Error(`peer certificate ${uri ?? '(no URI SAN)'} is not a gateway identity of ${options.expectTrustDomain}`);
      }
      options.onServerIdentity?.(uri);
      return undefined;
    },
  });
}

/**
 * Channel options for one dial. A private subchannel pool gives every dial a fresh TLS
 * connection (new credentials, current bundle); the TLS server name is the peer's trust
 * domain because an IP address is not a valid SNI name (RFC 6066 §3) and host names play no
 * part in verification anyway.
 */
export function peerChannelOptions(trustDomain: string, maxMessageBytes = MAX_MESSAGE_BYTES): grpc.ChannelOptions {
  return {
    'grpc.ssl_target_name_override': trustDomain,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
}
