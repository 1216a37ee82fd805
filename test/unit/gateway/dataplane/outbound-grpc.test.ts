import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { ServiceRecord } from '../../../../registry/index.js';
import { OutboundProxy } from '../../../../gateway/dataplane/outbound-proxy.js';
import { TunnelClient } from '../../../../gateway/dataplane/tunnel-client.js';
import { ForwardListeners } from '../../../../gateway/dataplane/forward-listeners.js';
import { endpointOf, makeWorld, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';
const identity = (b: Buffer): Buffer => b;

/** A service with raw-bytes messages: no .proto needed, the path and framing are real gRPC. */
const ECHO_SERVICE: grpc.ServiceDefinition = {
  unary: {
    path: '/test.Echo/Unary', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
  count: {
    path: '/test.Echo/Count', requestStream: false, responseStream: true,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
  },
};

interface EchoClient extends grpc.Client {
  unary(request: Buffer, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, reply?: Buffer) => void): grpc.ClientUnaryCall;
  count(request: Buffer, metadata: grpc.Metadata): grpc.ClientReadableStream<Buffer>;
}
const EchoClient = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo') as unknown as new (target: string, creds: grpc.ChannelCredentials, options: grpc.ChannelOptions) => EchoClient;

function grpcRecord(origin: string, port: number, backendPort: number): ServiceRecord {
  return {
    origin, name: 'grpcecho', namespace: 'demo', version: { origin, epoch: 1, seq: Date.now() }, deleted: false, exported: true,
    ports: [{ name: 'grpc', port, protocol: 'grpc' }], endpoints: [{ ...endpointOf(backendPort), ports: { grpc: backendPort } }],
  };
}

describe('gRPC through the outbound listener (h2c) to a grpc-js backend in the other cluster', () => {
  let world: World;
  let tunnels: TunnelClient;
  let proxy: OutboundProxy;
  let server: grpc.Server;
  let client: EchoClient;
  const seenSources: Array<string | undefined> = [];

  before(async () => {
    world = await makeWorld();
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
    server = new grpc.Server();
    server.addService(ECHO_SERVICE, {
      unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        seenSources.push(call.metadata.get('x-forwarded-client-cert')[0]?.toString());
        assert.deepEqual(call.metadata.get('causeway-source'), [], 'causeway-source never reaches a backend');
        if (call.request.toString() === 'fail') {
          callback({ code: grpc.status.FAILED_PRECONDITION, details: 'asked to fail' });
          return;
        }
        callback(null, Buffer.concat([Buffer.from('b:'), call.request]));
      },
      count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const n = Number(call.request.toString());
        for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
        const trailer = new grpc.Metadata();
        trailer.set('x-total', String(n));
        call.end(trailer);
      },
    });
    const backendPort = await new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port)));
    });
    const record = grpcRecord('b', 50051, backendPort);
    world.b.catalog.applyLocal(record);
    world.a.catalog.applyRemote([record]);
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    proxy = new OutboundProxy({ catalog: world.a.catalog, tunnels, locality: world.a.locality, callerIdentity: () => CLIENT });
    const address = await proxy.listen('127.0.0.1', 0);
    // The mesh name travels as :authority; the channel itself dials the outbound listener.
    client = new EchoClient(`127.0.0.1:${address.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpcecho.demo:50051' });
  });

  after(async () => {
    client?.close();
    await proxy?.close();
    await tunnels?.close();
    server?.forceShutdown();
    await world?.close();
  });

  it('carries a unary call and its status, with the verified caller passed to the backend', async () => {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      client.unary(Buffer.from('hello'), new grpc.Metadata(), (err, value) => (err ? reject(err) : resolve(value!)));
    });
    assert.equal(reply.toString(), 'b:hello');
    assert.equal(seenSources.at(-1), `By=spiffe://b.test/gateway/gw-b;URI=${CLIENT}`);
    const failure = await new Promise<grpc.ServiceError>((resolve, reject) => {
      client.unary(Buffer.from('fail'), new grpc.Metadata(), (err) => (err ? resolve(err) : reject(new Error('expected an error'))));
    });
    assert.equal(failure.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(failure.details, 'asked to fail');
  });

  it('carries a server-streaming call and its trailers', async () => {
    const call = client.count(Buffer.from('50'), new grpc.Metadata());
    const got: string[] = [];
    call.on('data', (chunk: Buffer) => got.push(chunk.toString()));
    const status = await new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => String(i + 1)));
    assert.equal(status.metadata.get('x-total')[0], '50');
  });

  it('many concurrent calls share one session to the remote gateway', async () => {
    const calls = Array.from({ length: 200 }, (_, i) => new Promise<string>((resolve, reject) => {
      client.unary(Buffer.from(String(i)), new grpc.Metadata(), (err, value) => (err ? reject(err) : resolve(value!.toString())));
    }));
    const replies = await Promise.all(calls);
    assert.deepEqual(replies, Array.from({ length: 200 }, (_, i) => `b:${i}`));
    assert.equal(tunnels.sessionCount(), 1);
  });

  it('carries calls made to a forward port of the service, whatever their :authority', async () => {
    const forwards = new ForwardListeners({ handler: proxy });
    const bound = await forwards.add({ listen: { host: '127.0.0.1', port: 0 }, service: { key: 'grpcecho.demo', name: 'grpcecho', namespace: 'demo', port: 50051 } });
    // A Consul-native client knows nothing of mesh names: its :authority is the address it dials.
    const direct = new EchoClient(`127.0.0.1:${bound.port}`, grpc.credentials.createInsecure(), {});
    try {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        direct.unary(Buffer.from('forwarded'), new grpc.Metadata(), (err, value) => (err ? reject(err) : resolve(value!)));
      });
      assert.equal(reply.toString(), 'b:forwarded');
      assert.equal(seenSources.at(-1), `By=spiffe://b.test/gateway/gw-b;URI=${CLIENT}`);
    } finally {
      direct.close();
      await forwards.close();
    }
  });

  it('answers an unknown mesh name with UNAVAILABLE-class failure, not a hang', async () => {
    const other = new EchoClient(`127.0.0.1:${proxy.address()!.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'nope.demo:50051' });
    try {
      const err = await new Promise<grpc.ServiceError>((resolve, reject) => {
        other.unary(Buffer.from('x'), new grpc.Metadata(), (e) => (e ? resolve(e) : reject(new Error('expected an error'))));
      });
      assert.notEqual(err.code, grpc.status.OK);
    } finally {
      other.close();
    }
  });
});
