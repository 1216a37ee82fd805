import type { PeerCertificate } from 'node:tls';
import { checkServerSpiffeId, isGatewayIdentity, parseSpiffeId } from '../../federation/index.js';

/**
 * The agent's check of a server certificate (identity listener, agent channel, outbound
 * listener): a gateway of our own trust domain, by SPIFFE ID — there is no host name to check,
 * and a workload of the domain must not pose as the gateway.
 */
export function checkGatewayCertificate(cert: PeerCertificate, trustDomain: string): Error | undefined {
  const problem = checkServerSpiffeId(cert, trustDomain);
  if (problem !== undefined) return problem;
  const uri = (cert.subjectaltname ?? '').replace(/^URI:/, '');
  return isGatewayIdentity(parseSpiffeId(uri)) ? undefined : new Error(`${uri} is not a gateway identity`);
}
