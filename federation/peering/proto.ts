import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { CausewayError, ErrorCodes } from '../../registry/index.js';

/**
 * Run-time loading of federation.proto (no generated code). The loader options fix how
 * messages look in TypeScript; the wire types below mirror them.
 */
export const PROTO_LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  // snake_case on the wire, camelCase in code: decoded records line up with registry/model.ts.
  keepCase: false,
  // uint64 → decimal string: nothing above 2^53 is silently rounded; receivers validate.
  longs: String,
  enums: String,
  // proto3 does not send default values; `defaults` makes `deleted: false`, `''`, `[]`, `{}`
  // appear so validation sees every field (unset sub-messages decode as null).
  defaults: true,
  arrays: true,
  objects: true,
  // LinkMessage.msg names the member of the oneof that is set.
  oneofs: true,
});

export const PROTOCOL_VERSION = 1;
/** Snapshots are the largest messages; allow a big catalog (gRPC's default limit is 4 MiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export const FEDERATION_SERVICE = 'causeway.federation.v1.Federation';

/** A uint64 as decoded (string) or as we write it (number). */
export type WireLong = string | number;

export interface WireLocality {
  cloud: string;
  region: string;
  zone: string;
  cluster: string;
}

export interface WireVersion {
  origin: string;
  epoch: WireLong;
  seq: WireLong;
}

export interface WireServicePort {
  name: string;
  port: number;
  protocol: string;
}

export interface WireEndpoint {
  address: string;
  ports: Record<string, number>;
  locality: WireLocality | null;
  kind: string;
  identity: string;
  health: string;
  weight: number;
  labels: Record<string, string>;
}

export interface WireServiceRecord {
  origin: string;
  name: string;
  namespace: string;
  version: WireVersion | null;
  deleted: boolean;
  exported: boolean;
  ports: WireServicePort[];
  endpoints: WireEndpoint[];
}

export interface WireHello {
  cluster: string;
  trustDomain: string;
  gatewayId: string;
  eastWestAddress: string;
  locality: WireLocality | null;
  protocolVersion: number;
}

export interface WireBundle {
  trustDomain: string;
  spiffeBundleJson: string;
  seq: WireLong;
}

export interface WireRecords {
  seq: WireLong;
  records: WireServiceRecord[];
  /** Delta only: when the sender's catalog applied the changes (Unix ms); 0 or absent = unknown. */
  writtenAtMs?: WireLong;
}

export interface WireAck {
  seq: WireLong;
  errorDetail: string;
}

export interface WireHeartbeat {
  unixMs: WireLong;
}

export interface WireRemoved {
  reason: string;
}

/** One LinkMessage: exactly one member set; `msg` (decoded only) names it. */
export interface WireLinkMessage {
  msg?: 'hello' | 'bundle' | 'snapshot' | 'delta' | 'ack' | 'heartbeat' | 'removed' | null;
  hello?: WireHello | null;
  bundle?: WireBundle | null;
  snapshot?: WireRecords | null;
  delta?: WireRecords | null;
  ack?: WireAck | null;
  heartbeat?: WireHeartbeat | null;
  removed?: WireRemoved | null;
}

export interface WireBootstrapRedemption {
  from: string;
  to: string;
  id: string;
  exp: WireLong;
  nonce: string;
  proof: string;
}

/** A token redemption fills tokenId, secret and payloadDigest; a bootstrap redemption `bootstrap` instead. */
export interface WireRedeemRequest {
  tokenId: string;
  secret: string;
  payloadDigest: string;
  cluster: string;
  trustDomain: string;
  spiffeBundleJson: string;
  gatewayId: string;
  /** Decoded as null when unset. */
  bootstrap?: WireBootstrapRedemption | null;
}

export interface WireRedeemResponse {
  cluster: string;
  trustDomain: string;
  spiffeBundleJson: string;
  gatewayId: string;
  /** Bootstrap redemptions only ('' otherwise). */
  bootstrapProof?: string;
}

/** The generated-at-run-time client class of the Federation service. */
export interface FederationClient extends grpc.Client {
  Redeem(
    request: WireRedeemRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, response?: WireRedeemResponse) => void,
  ): grpc.ClientUnaryCall;
  Link(metadata?: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<WireLinkMessage, WireLinkMessage>;
}

export type FederationClientConstructor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => FederationClient;

export interface FederationProto {
  Client: FederationClientConstructor;
  service: grpc.ServiceDefinition;
  protoPath: string;
}

/**
 * The package root: the first directory above this module holding package.json. Code runs
 * from dist/federation/peering/, while the .proto ships at <root>/federation/peering/.
 */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) {
      throw new CausewayError(ErrorCodes.INTERNAL, `no package.json above ${from}; cannot locate federation.proto`);
    }
  }
}

let loaded: FederationProto | undefined;

/** Loads (once per process) and returns the Federation service definition and client. */
export function federationProto(): FederationProto {
  if (loaded !== undefined) return loaded;
  const protoPath = path.join(packageRoot(), 'federation', 'peering', 'federation.proto');
  let definition: grpc.GrpcObject;
  try {
    definition = grpc.loadPackageDefinition(loadSync(protoPath, { ...PROTO_LOADER_OPTIONS }));
  } catch (err) {
    throw new CausewayError(ErrorCodes.INTERNAL, `cannot load ${protoPath}: ${(err as Error).message}`, { cause: err });
  }
  const pkg = (((definition.causeway as grpc.GrpcObject).federation as grpc.GrpcObject).v1 as grpc.GrpcObject);
  const Client = pkg.Federation as unknown as FederationClientConstructor & { service: grpc.ServiceDefinition };
  loaded = { Client, service: Client.service, protoPath };
  return loaded;
}
