// A raw ADS client (envoy.service.discovery.v3 over grpc-js, the Envoy protos the gateway
// loads) for the xDS tests and the xDS benchmark: the generic client, mTLS credentials with a
// workload SVID, and a stream that queues its responses for a test to take in order.
import * as grpc from '@grpc/grpc-js';
import { adsService } from '../../gateway/xds/xds-protos.js';

export interface AdsResponse {
  versionInfo: string;
  nonce: string;
  typeUrl: string;
  resources: Array<{
    name?: string;
    clusterName?: string;
    outlierDetection?: { consecutive_5xx?: { value: number } };
    circuitBreakers?: { thresholds: Array<{ retryBudget?: { budgetPercent?: { value: number }; minRetryConcurrency?: { value: number } } }> };
    endpoints?: LoadAssignmentEndpoints;
  }>;
}

export interface DeltaAdsResponse {
  systemVersionInfo: string;
  nonce: string;
  typeUrl: string;
  removedResources: string[];
  resources: Array<{ name: string; version: string; resource: { clusterName?: string; endpoints?: LoadAssignmentEndpoints } }>;
}

/** A ClusterLoadAssignment's `endpoints`, as far as the tests read them. */
export type LoadAssignmentEndpoints = Array<{ priority?: number; lbEndpoints: Array<{ endpoint: { address: { socketAddress: { address: string; portValue: number } } } }> }>;

export type AdsCall = grpc.ClientDuplexStream<Record<string, unknown>, AdsResponse>;
export type DeltaAdsCall = grpc.ClientDuplexStream<Record<string, unknown>, DeltaAdsResponse>;

/** The serialized size of every response a client decoded: what it cost on the wire (gRPC message, without framing). */
const sizes = new WeakMap<object, number>();

/** The bytes of the serialized (Delta)DiscoveryResponse `response` was decoded from. */
export function wireSize(response: object): number | undefined {
  return sizes.get(response);
}

/** The ADS service with a response decoder that remembers each message's size (wireSize). */
function measuredService(): grpc.ServiceDefinition {
  return Object.fromEntries(Object.entries(adsService()).map(([name, method]) => [name, {
    ...method,
    responseDeserialize: (bytes: Buffer) => {
      const decoded = method.responseDeserialize(bytes) as object;
      sizes.set(decoded, bytes.length);
      return decoded;
    },
  }]));
}

export type AdsClient = grpc.Client & { StreamAggregatedResources(): AdsCall; DeltaAggregatedResources(): DeltaAdsCall };

let constructor: (new (target: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => AdsClient) | undefined;

/** A client (one channel: one HTTP/2 connection, which carries every stream opened on it). */
export function adsClient(target: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions): AdsClient {
  constructor ??= grpc.makeGenericClientConstructor(measuredService(), 'AggregatedDiscoveryService') as unknown as typeof constructor;
  return new constructor!(target, credentials, options);
}

/**
 * mTLS to an xDS listener: `rootsPem` are the trust domain's roots; `svid` the client's key and
 * chain (none: a TLS client without a certificate). The server's certificate names it by SPIFFE
 * ID alone (no DNS name): identity is checked by the listener's rules, not by host name.
 */
export function workloadCredentials(rootsPem: string, svid: { keyPem: string; certChainPem: string } | undefined): grpc.ChannelCredentials {
  const options = { checkServerIdentity: () => undefined };
  const roots = Buffer.from(rootsPem);
  if (svid === undefined) return grpc.credentials.createSsl(roots, null, null, options);
  return grpc.credentials.createSsl(roots, Buffer.from(svid.keyPem), Buffer.from(svid.certChainPem), options);
}

/** One ADS stream, with the responses it got queued for a test to take in order. */
export class QueuedAdsStream<R = AdsResponse> {
  private readonly queue: R[] = [];
  private waiting: ((r: R) => void) | undefined;
  readonly ended: Promise<grpc.ServiceError | undefined>;

  constructor(readonly call: grpc.ClientDuplexStream<Record<string, unknown>, R>, private readonly nodeId = 'ads-test') {
    call.on('data', (r: R) => {
      if (this.waiting !== undefined) {
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve(r);
      } else this.queue.push(r);
    });
    this.ended = new Promise((resolve) => {
      call.on('error', (err: grpc.ServiceError) => resolve(err));
      call.on('end', () => resolve(undefined));
    });
  }

  send(request: Record<string, unknown>): void {
    this.call.write({ node: { id: this.nodeId }, ...request });
  }

  next(timeoutMs = 10_000): Promise<R> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response')), timeoutMs);
      this.waiting = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
    });
  }

  /** Whether no response arrives within `ms`. */
  async quiet(ms: number): Promise<boolean> {
    return this.next(ms).then(() => false, () => true);
  }
}
