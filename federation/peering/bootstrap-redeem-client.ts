import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { CausewayError, ErrorCodes, describeError } from '../../registry/index.js';
import { decodeBundle, isValidTrustDomain } from '../trust/index.js';
import { grpcTarget } from './address.js';
import type { BootstrapCredential } from './bootstrap-credential.js';
import { newNonce, proofMatches, requestProof, responseProof } from './bootstrap-proof.js';
import { fromGrpcError } from './grpc-errors.js';
import { federationProto, type WireRedeemRequest, type WireRedeemResponse } from './proto.js';

export interface BootstrapRedeemOptions {
  credential: BootstrapCredential;
  /** The dialled gateway's federation address (IP:port), from our config. */
  address: string;
  /** Who we are: the dialled gateway records and trusts this. */
  requester: { cluster: string; trustDomain: string; bundleJson: string; gatewayId: string };
  timeoutMs: number;
}

/**
 * TLS 1.3 that checks no server certificate: the dialler has never seen the dialled
 * gateway's bundle (its CA may have been created at its first start, minutes ago). TLS here
 * only keeps the exchange private; who answers is decided by the response proof, checked
 * before anything of the answer is used. No client certificate: the listener would close a
 * connection whose certificate it cannot verify.
 */
function unverifiedTls(): grpc.ChannelCredentials {
  return grpc.credentials.createFromSecureContext(createSecureContext({ minVersion: 'TLSv1.3' }), {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
}

/**
 * Calls Redeem with a bootstrap credential and returns the dialled gateway's answer once its
 * `bootstrap_proof` shows it was made with the credential's secret for THIS request (our
 * nonce) and names the cluster the credential is for. Errors: the dialled side's CW_TOKEN_* /
 * CW_BOOTSTRAP_DISABLED / CW_PEER_* verdicts relayed; CW_PEER_UNREACHABLE when nothing
 * answered, or when what answered could not prove it holds the secret (an impostor, or
 * a man in the middle that changed the answer).
 */
export async function redeemBootstrap(options: BootstrapRedeemOptions): Promise<WireRedeemResponse> {
  const { credential: c, requester } = options;
  const nonce = newNonce();
  const proof = requestProof(c.secret, {
    nonce, id: c.id, exp: c.exp, from: c.from, to: c.to,
    cluster: requester.cluster, trustDomain: requester.trustDomain, gatewayId: requester.gatewayId, bundleJson: requester.bundleJson,
  });
  const request: WireRedeemRequest = {
    tokenId: '', secret: '', payloadDigest: '',
    cluster: requester.cluster, trustDomain: requester.trustDomain, spiffeBundleJson: requester.bundleJson, gatewayId: requester.gatewayId,
    bootstrap: { from: c.from, to: c.to, id: c.id, exp: c.exp, nonce, proof },
  };
  const client = new (federationProto().Client)(grpcTarget(options.address), unverifiedTls(), {
    // The SNI name: an IP address is not a valid one (RFC 6066 §3); nothing checks it.
    'grpc.ssl_target_name_override': c.to,
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  });
  const peer = `${c.to} at ${options.address}`;
  try {
    const response = await new Promise<WireRedeemResponse>((resolve, reject) => {
      client.Redeem(request, new grpc.Metadata(), { deadline: Date.now() + options.timeoutMs }, (err, value) => {
        if (err !== null) reject(fromGrpcError(err, peer));
        else if (value === undefined) reject(new CausewayError(ErrorCodes.PEER_REFUSED, `${peer} sent an empty answer`));
        else resolve(value);
      });
    });
    const expected = responseProof(c.secret, {
      nonce, id: c.id, cluster: response.cluster, trustDomain: response.trustDomain, gatewayId: response.gatewayId, bundleJson: response.spiffeBundleJson,
    });
    if (!proofMatches(response.bootstrapProof ?? '', expected)) {
      throw new CausewayError(ErrorCodes.PEER_UNREACHABLE,
        `${peer} answered without a valid bootstrap proof: it is not the gateway the credential was minted for, or the answer was altered on the way; nothing was adopted`);
    }
    if (response.cluster !== c.to) {
      throw new CausewayError(ErrorCodes.PEER_REFUSED, `${peer} answered as cluster "${response.cluster}", not the credential's "${c.to}"`);
    }
    if (!isValidTrustDomain(response.trustDomain)) throw new CausewayError(ErrorCodes.PEER_REFUSED, `${peer} answered with trust domain "${response.trustDomain}", which is not one`);
    try {
      decodeBundle(response.trustDomain, response.spiffeBundleJson);
    } catch (err) {
      throw new CausewayError(ErrorCodes.PEER_REFUSED, `${peer} answered with a bundle that is not a SPIFFE trust bundle: ${describeError(err)}`, { cause: err });
    }
    return response;
  } finally {
    client.close();
  }
}
