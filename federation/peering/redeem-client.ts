import * as grpc from '@grpc/grpc-js';
import { CausewayError, ErrorCodes } from '../../registry/index.js';
import { TrustStore, decodeBundle, type Svid } from '../trust/index.js';
import { grpcTarget } from './address.js';
import { peerChannelOptions, peerCredentials } from './credentials.js';
import { fromGrpcError } from './grpc-errors.js';
import { federationProto, type WireRedeemRequest, type WireRedeemResponse } from './proto.js';
import type { PeeringToken } from './token.js';

export interface RedeemOptions {
  token: PeeringToken;
  /** Our SVID: only to satisfy the TLS options builder; it is not presented (see credentials.ts). */
  svid: Svid;
  /** Who we are: the issuer stores this as its new peer. */
  requester: { cluster: string; trustDomain: string; bundleJson: string; gatewayId: string };
  timeoutMs: number;
}

/**
 * Calls Redeem on the token issuer's federation address over TLS pinned to the bundle
 * carried IN THE TOKEN (a private TrustStore holding only it), expecting a gateway of the
 * token's trust domain. An edited address therefore leads nowhere: whatever answers there
 * must hold a key certified by the issuer's root. Errors: the issuer's CW_TOKEN_* /
 * CW_PEER_* verdicts relayed, CW_PEER_UNREACHABLE for connection or TLS failures and
 * timeouts.
 */
export async function redeemToken(options: RedeemOptions): Promise<WireRedeemResponse> {
  const { token, requester } = options;
  const pinned = new TrustStore();
  pinned.set(decodeBundle(token.trustDomain, token.bundle));
  const credentials = peerCredentials({
    svid: options.svid, trust: pinned, expectTrustDomain: token.trustDomain, presentCertificate: false,
  });
  const client = new (federationProto().Client)(grpcTarget(token.federationAddress), credentials, peerChannelOptions(token.trustDomain));
  const request: WireRedeemRequest = {
    tokenId: token.id,
    secret: token.secret,
    payloadDigest: token.payloadDigest,
    cluster: requester.cluster,
    trustDomain: requester.trustDomain,
    spiffeBundleJson: requester.bundleJson,
    gatewayId: requester.gatewayId,
  };
  const issuer = `${token.cluster} at ${token.federationAddress}`;
  try {
    const response = await new Promise<WireRedeemResponse>((resolve, reject) => {
      client.Redeem(request, new grpc.Metadata(), { deadline: Date.now() + options.timeoutMs }, (err, value) => {
        if (err !== null) reject(fromGrpcError(err, issuer));
        else if (value === undefined) reject(new CausewayError(ErrorCodes.PEER_REFUSED, `${issuer} sent an empty answer`));
        else resolve(value);
      });
    });
    if (response.cluster !== token.cluster || response.trustDomain !== token.trustDomain) {
      throw new CausewayError(ErrorCodes.PEER_REFUSED,
        `${issuer} answered as cluster "${response.cluster}" / trust domain "${response.trustDomain}", not the token's`);
    }
    return response;
  } finally {
    client.close();
  }
}
