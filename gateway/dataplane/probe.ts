import { CausewayError, ErrorCodes, describeError, type GatewayRecord } from '../../registry/index.js';
import { formatIpAddress } from './mesh-address.js';
import { connectTcp } from './tcp-connect.js';

/**
 * The probe request between gateways (docs/protocol.md, "Probes"): a CONNECT stream to the
 * remote east-west listener with `:authority` `<service>.<namespace>:<port>` and this header,
 * sent with END_STREAM on its HEADERS frame and answered the same way, so that neither side
 * ever resets it (RFC 9113 §6.4). The remote gateway answers 200 when it could open a TCP
 * connection to one healthy local endpoint of that service port (closed at once), 503 with
 * `causeway-error` otherwise; it carries no data and needs no access-policy check.
 */
export const CAUSEWAY_PROBE = 'causeway-probe';
export const PROBE_VALUE = '1';

/**
 * How a probe went. `reachable: false` means the gateway itself did not answer (connect, TLS or
 * session failure): that is the gateway's liveness, not a verdict on the service behind it.
 */
export type ProbeOutcome =
  | { ok: true; detail: string }
  | { ok: false; reachable: boolean; reason: string; status?: number };

/** What the prober asks of the transport; TunnelClient implements it. */
export interface GatewayProbes {
  /** A session to the gateway (fresh when none is up) that answers a PING (RFC 9113 §6.7). */
  probeGateway(gateway: GatewayRecord): Promise<ProbeOutcome>;
  /** The probe request for `authority` (`<service>.<namespace>:<port>`) through the gateway. */
  probeService(gateway: GatewayRecord, authority: string): Promise<ProbeOutcome>;
}

/**
 * The remote side of a probe: connects to every candidate at once and answers with the first
 * that accepts (`ip:port`); every socket is closed as soon as it connects — a probe carries no
 * data. Rejects with the reasons when none connects within `timeoutMs`.
 */
export async function reachAny(candidates: ReadonlyArray<{ host: string; port: number }>, timeoutMs: number): Promise<string> {
  const attempts = candidates.map(async ({ host, port }) => {
    const socket = await connectTcp(host, port, timeoutMs);
    socket.destroy();
    return formatIpAddress(host, port);
  });
  try {
    return await Promise.any(attempts);
  } catch (err) {
    const reasons = err instanceof AggregateError ? err.errors.map((e: unknown) => describeError(e)) : [describeError(err)];
    throw new CausewayError(ErrorCodes.UPSTREAM_CONNECT, `no endpoint accepted a connection: ${reasons.join('; ')}`);
  }
}
