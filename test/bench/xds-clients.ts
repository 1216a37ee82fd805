// The xDS benchmark's clients (xds.ts), in a worker thread of the bench process: their own JS
// heap (so the gateway's heap can be told from theirs) and their own event loop (decoding
// responses and writing ACKs does not queue behind the server's pushes, as it would not for
// clients on other hosts; they share the machine's cores with it all the same).
// Every stream subscribes to the four types for its names and ACKs each response at once,
// the moment it is decoded. Timestamps are process.hrtime (one monotonic clock for every
// thread of the process), in ms.
import { parentPort, workerData } from 'node:worker_threads';
import type * as grpc from '@grpc/grpc-js';
import { adsService, TYPE_URLS } from '../../gateway/xds/xds-protos.js';
import {
  adsClient, wireSize, workloadCredentials, type AdsClient, type AdsResponse, type DeltaAdsResponse, type LoadAssignmentEndpoints,
} from '../helpers/ads-client.js';
import { nowMs, type ClientsSetup, type FromClients, type ToClients } from './xds-messages.js';

const KINDS = [TYPE_URLS.listener, TYPE_URLS.route, TYPE_URLS.cluster, TYPE_URLS.endpoints];

function holds(endpoints: LoadAssignmentEndpoints | undefined, address: string): boolean {
  return (endpoints ?? []).some((l) => l.lbEndpoints.some((e) => e.endpoint.address.socketAddress.address === address));
}

interface Watch { change: number; name: string; address: string; concerned: number; acked: number[]; bytes: number[]; other: number; otherBytes: number }

const setup = workerData as ClientsSetup;
const port = parentPort!;
const post = (message: FromClients): void => port.postMessage(message);
const channels: AdsClient[] = [];
const calls: Array<grpc.ClientDuplexStream<Record<string, unknown>, unknown>> = [];
let watch: Watch | undefined;

/** Bytes of the first response of each type, per stream, until all four came (the full state). */
const initial = setup.subscriptions.map(() => ({ types: new Set<string>(), bytes: 0 }));
let initialDone = 0;
let onInitial: (() => void) | undefined;

function received(index: number, typeUrl: string, bytes: number, carries: (name: string, address: string) => boolean): void {
  const first = initial[index]!;
  if (first.types.size < KINDS.length) {
    if (!first.types.has(typeUrl)) first.bytes += bytes;
    first.types.add(typeUrl);
    if (first.types.size === KINDS.length && ++initialDone === initial.length) onInitial?.();
    return;
  }
  if (watch === undefined) return;
  if (typeUrl === TYPE_URLS.endpoints && carries(watch.name, watch.address)) {
    watch.acked.push(nowMs());
    watch.bytes.push(bytes);
    if (watch.acked.length === watch.concerned) {
      const done = watch;
      watch = undefined;
      post({ type: 'seen', change: done.change, ackedAtMs: done.acked, updateBytes: done.bytes, otherResponses: done.other, otherBytes: done.otherBytes });
    }
  } else {
    watch.other += 1;
    watch.otherBytes += bytes;
  }
}

function openSotw(client: AdsClient, index: number, names: string[]): void {
  const call = client.StreamAggregatedResources();
  calls.push(call);
  call.on('data', (r: AdsResponse) => {
    call.write({ typeUrl: r.typeUrl, resourceNames: names, versionInfo: r.versionInfo, responseNonce: r.nonce });
    received(index, r.typeUrl, wireSize(r) ?? 0, (name, address) => holds(r.resources.find((x) => x.clusterName === name)?.endpoints, address));
  });
  call.on('error', () => undefined);
  for (const typeUrl of KINDS) call.write({ node: { id: `bench-${index}` }, typeUrl, resourceNames: names });
}

function openDelta(client: AdsClient, index: number, names: string[]): void {
  const call = client.DeltaAggregatedResources();
  calls.push(call);
  call.on('data', (r: DeltaAdsResponse) => {
    call.write({ typeUrl: r.typeUrl, responseNonce: r.nonce });
    received(index, r.typeUrl, wireSize(r) ?? 0, (name, address) => holds(r.resources.find((x) => x.name === name)?.resource.endpoints, address));
  });
  call.on('error', () => undefined);
  for (const typeUrl of KINDS) call.write({ node: { id: `bench-${index}` }, typeUrl, resourceNamesSubscribe: names });
}

function connect(): void {
  const begin = nowMs();
  const credentials = workloadCredentials(setup.rootsPem, setup.svid);
  // A channel of its own for each client object: grpc-js otherwise shares one connection between channels of equal target and credentials.
  for (let c = 0; c < setup.channels; c += 1) channels.push(adsClient(setup.target, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    // A host name for SNI (the listener ignores it): Node warns about an IP address there.
    'grpc.ssl_target_name_override': 'xds.causeway.invalid',
  }));
  onInitial = () => {
    global.gc?.();
    post({ type: 'ready', heapUsed: process.memoryUsage().heapUsed, initialBytes: initial.map((i) => i.bytes), connectMs: nowMs() - begin });
  };
  setup.subscriptions.forEach((names, index) => {
    const client = channels[index % channels.length]!;
    if (setup.protocol === 'sotw') openSotw(client, index, names);
    else openDelta(client, index, names);
  });
}

port.on('message', (message: ToClients) => {
  switch (message.type) {
    case 'connect':
      connect();
      break;
    case 'watch': {
      const concerned = setup.subscriptions.filter((names) => names.includes(message.name)).length;
      watch = { ...message, concerned, acked: [], bytes: [], other: 0, otherBytes: 0 };
      post({ type: 'watching', change: message.change });
      break;
    }
    case 'close':
      for (const call of calls) call.end();
      for (const client of channels) client.close();
      post({ type: 'closed' });
      port.close();
      break;
  }
});

// The protos are parsed before the baseline is taken: they are not part of what the streams cost.
adsService();
global.gc?.();
post({ type: 'loaded', heapUsed: process.memoryUsage().heapUsed });
