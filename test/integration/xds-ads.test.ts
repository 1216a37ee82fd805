// The ADS protocol as a client sees it (issue 13): a grpc-js client speaking
// envoy.service.discovery.v3 with the Envoy protos, over mTLS with an SVID. Versions, nonces,
// ACK and NACK (a rejected version is recorded with the client's error, and the version the
// client acknowledged before stays the one it holds), and who is refused: no client
// certificate, a peer domain's SVID, a plaintext client when plaintext is off.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { silentLogger } from '../../registry/index.js';
import { writeFile } from 'node:fs/promises';
import { Gateway, loadConfig, parseConfigText } from '../../gateway/index.js';
import { TYPE_URLS } from '../../gateway/xds/xds-protos.js';
import { adsClient, QueuedAdsStream, workloadCredentials, type AdsClient, type DeltaAdsResponse } from '../helpers/ads-client.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { makeTempDir } from '../helpers/paths.js';
import { waitFor } from '../helpers/wait-for.js';

const SERVICE = `
services:
  - name: echo
    namespace: demo
    ports: [{ name: grpc, port: 9000, protocol: grpc }]
    endpoints: [{ address: 127.0.0.1, ports: { grpc: ECHO_PORT }, identity: spiffe://cluster-a.example.org/ns/demo/sa/echo, kind: vm }]
  - name: other
    namespace: demo
    ports: [{ name: grpc, port: 9000, protocol: grpc }]
    endpoints: [{ address: 127.0.0.1, ports: { grpc: 19500 }, identity: spiffe://cluster-a.example.org/ns/demo/sa/other, kind: vm }]
  - name: spread
    namespace: demo
    ports: [{ name: grpc, port: 9000, protocol: grpc }]
    endpoints:
      - { address: 127.0.0.4, ports: { grpc: 19600 }, identity: spiffe://cluster-a.example.org/ns/demo/sa/spread, kind: vm }
      - { address: 127.0.0.2, ports: { grpc: 19600 }, identity: spiffe://cluster-a.example.org/ns/demo/sa/spread, kind: vm }
      - { address: 127.0.0.3, ports: { grpc: 19600 }, identity: spiffe://cluster-a.example.org/ns/demo/sa/spread, kind: vm }
      - { address: 127.0.0.2, ports: { grpc: 19601 }, identity: spiffe://cluster-a.example.org/ns/demo/sa/spread, kind: vm }
access:
  - { to: echo.demo, from: ["spiffe://cluster-a.example.org/ns/demo/*"] }
  - { to: other.demo, from: ["spiffe://cluster-a.example.org/ns/demo/*"] }
xds: { listen: "127.0.0.1:0" }
`;

describe('xDS ADS: mTLS clients, ACK and NACK, refusals', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let a: Gateway | undefined;
  let b: Gateway | undefined;
  const clients: grpc.Client[] = [];

  const credentialsFor = (issuer: Gateway, spiffeId: string | undefined): grpc.ChannelCredentials =>
    workloadCredentials(a!.trust.get('cluster-a.example.org')!.rootsPem.join('\n'), spiffeId === undefined ? undefined : issuer.ca.issueKeyAndSvid(spiffeId, 3600));
  const client = (credentials: grpc.ChannelCredentials): AdsClient => {
    const made = adsClient(a!.listeners.xds!, credentials);
    clients.push(made);
    return made;
  };
  const open = (credentials: grpc.ChannelCredentials): QueuedAdsStream => new QueuedAdsStream(client(credentials).StreamAggregatedResources());
  let fileA = '';

  before(async () => {
    tmp = await makeTempDir('xds-ads');
    fileA = path.join(tmp.dir, 'a.yaml');
    await writeFile(fileA, inProcessConfig(tmp.dir, 'cluster-a', SERVICE.replace('ECHO_PORT', '19000')));
    a = await Gateway.start(await loadConfig(fileA), { logger: silentLogger(), configFile: fileA });
    b = await Gateway.start(parseConfigText(inProcessConfig(tmp.dir, 'cluster-b')), { logger: silentLogger() });
    await a.peers.addPeer(await b.peers.createToken({ ttlSeconds: 600 }));
    await waitFor('B\'s bundle at A', () => (a!.trust.get('cluster-b.example.org') === undefined ? undefined : true));
  });

  after(async () => {
    for (const client of clients) client.close();
    await a?.close();
    await b?.close();
    await tmp?.remove();
  });

  it('serves a workload of its domain, records its ACK, and never resends a version it holds', async () => {
    const stream = open(credentialsFor(a!, 'spiffe://cluster-a.example.org/ns/demo/sa/client'));
    stream.send({ typeUrl: TYPE_URLS.listener, resourceNames: ['echo.demo:9000'] });
    const first = await stream.next();
    assert.equal(first.typeUrl, TYPE_URLS.listener);
    assert.deepEqual(first.resources.map((r) => r.name), ['echo.demo:9000']);
    stream.send({ typeUrl: TYPE_URLS.listener, resourceNames: ['echo.demo:9000'], versionInfo: first.versionInfo, responseNonce: first.nonce });
    await waitFor('the ACK recorded', () => {
      const type = a!.xds!.clients().find((c) => c.identity.endsWith('/sa/client'))?.types.find((t) => t.typeUrl === TYPE_URLS.listener);
      return type?.acked === first.versionInfo ? true : undefined;
    });
    assert.ok(await stream.quiet(300), 'an acknowledged, unchanged version is not sent again');
    // A name it may not call (no such service) does not exist for it.
    stream.send({ typeUrl: TYPE_URLS.endpoints, resourceNames: ['nothing.demo:1', 'echo.demo:9000'] });
    const endpoints = await stream.next();
    assert.deepEqual(endpoints.resources.map((r) => r.clusterName), ['echo.demo:9000']);
    stream.call.end();
  });

  it('a load assignment of several endpoints is one version: in address order, and an ACK is not answered with a reshuffle', async () => {
    const stream = open(credentialsFor(a!, 'spiffe://cluster-a.example.org/ns/demo/sa/spread-client'));
    stream.send({ typeUrl: TYPE_URLS.endpoints, resourceNames: ['spread.demo:9000'] });
    const first = await stream.next();
    const sockets = first.resources[0]?.endpoints?.flatMap((l) => l.lbEndpoints.map((e) => `${e.endpoint.address.socketAddress.address}:${e.endpoint.address.socketAddress.portValue}`));
    assert.deepEqual(sockets, ['127.0.0.2:19600', '127.0.0.2:19601', '127.0.0.3:19600', '127.0.0.4:19600']);
    // Each ACK is answered with the resources as they are now: the same endpoints, whatever order the route decision drew, are the same version.
    for (let i = 0; i < 5; i += 1) {
      stream.send({ typeUrl: TYPE_URLS.endpoints, resourceNames: ['spread.demo:9000'], versionInfo: first.versionInfo, responseNonce: first.nonce });
    }
    assert.ok(await stream.quiet(300), 'an unchanged load assignment is not sent again');
    stream.call.end();
  });

  it('records a NACK with the client\'s error; the version acknowledged before stays in force and the rejected one is not resent', async () => {
    const stream = open(credentialsFor(a!, 'spiffe://cluster-a.example.org/ns/demo/sa/nacker'));
    stream.send({ typeUrl: TYPE_URLS.cluster, resourceNames: ['echo.demo:9000'] });
    const v1 = await stream.next();
    assert.equal(v1.resources[0]?.outlierDetection?.consecutive_5xx?.value, 3);
    stream.send({ typeUrl: TYPE_URLS.cluster, resourceNames: ['echo.demo:9000'], versionInfo: v1.versionInfo, responseNonce: v1.nonce });
    // A FailoverPolicy changes the cluster's outlier detection: a new version.
    await a!.policies.apply([{
      apiVersion: 'causeway.dev/v1alpha1', kind: 'FailoverPolicy', metadata: { name: 'echo' },
      spec: { service: 'echo.demo', outlierDetection: { consecutiveFailures: 7 }, retries: { budgetPercent: 35, minRetriesPerSecond: 4 } },
    }]);
    const v2 = await stream.next();
    assert.notEqual(v2.versionInfo, v1.versionInfo);
    assert.equal(v2.resources[0]?.outlierDetection?.consecutive_5xx?.value, 7);
    // The retry budget is the circuit breaker's.
    assert.deepEqual(v2.resources[0]?.circuitBreakers?.thresholds[0]?.retryBudget, { budgetPercent: { value: 35 }, minRetryConcurrency: { value: 4 } });
    stream.send({
      typeUrl: TYPE_URLS.cluster, resourceNames: ['echo.demo:9000'], versionInfo: v1.versionInfo, responseNonce: v2.nonce,
      errorDetail: { code: 3, message: 'outlier detection rejected by the test client' },
    });
    const type = await waitFor('the NACK recorded', () => {
      const found = a!.xds!.clients().find((c) => c.identity.endsWith('/sa/nacker'))?.types.find((t) => t.typeUrl === TYPE_URLS.cluster);
      return found?.nacked === undefined ? undefined : found;
    });
    assert.deepEqual({ acked: type.acked, nacked: type.nacked?.version, error: type.nacked?.error },
      { acked: v1.versionInfo, nacked: v2.versionInfo, error: 'outlier detection rejected by the test client' });
    assert.equal(a!.xds!.recentNacks()[0]?.error, 'outlier detection rejected by the test client');
    // Another change that leaves the cluster as it was (a failback delay is not part of it):
    // the rejected version is not pushed again.
    const applied = await a!.policies.apply([{
      apiVersion: 'causeway.dev/v1alpha1', kind: 'FailoverPolicy', metadata: { name: 'echo' },
      spec: { service: 'echo.demo', outlierDetection: { consecutiveFailures: 7 }, retries: { budgetPercent: 35, minRetriesPerSecond: 4 }, failback: { delay: '45s' } },
    }]);
    assert.deepEqual(applied.applied.map((p) => p.action), ['configured']);
    assert.ok(await stream.quiet(400), 'the version the client rejected is not sent again');
    stream.call.end();
  });

  it('incremental xDS: a delta carries only the resource that changed, and says which names do not exist', async () => {
    const stream = new QueuedAdsStream<DeltaAdsResponse>(client(credentialsFor(a!, 'spiffe://cluster-a.example.org/ns/demo/sa/delta')).DeltaAggregatedResources());
    stream.send({ typeUrl: TYPE_URLS.endpoints, resourceNamesSubscribe: ['echo.demo:9000', 'other.demo:9000', 'nothing.demo:1'] });
    const first = await stream.next();
    assert.deepEqual(first.resources.map((r) => r.name).sort(), ['echo.demo:9000', 'other.demo:9000']);
    assert.deepEqual(first.removedResources, ['nothing.demo:1'], 'a name that does not exist is removed, so the client stops waiting');
    stream.send({ typeUrl: TYPE_URLS.endpoints, responseNonce: first.nonce });
    // echo.demo's endpoint moves to another port: one resource changes.
    await writeFile(fileA, inProcessConfig(tmp.dir, 'cluster-a', SERVICE.replace('ECHO_PORT', '19001')));
    await a!.reload();
    const delta = await stream.next();
    assert.deepEqual(delta.resources.map((r) => r.name), ['echo.demo:9000']);
    assert.deepEqual(delta.removedResources, []);
    assert.equal(delta.resources[0]?.resource.endpoints?.[0]?.lbEndpoints[0]?.endpoint.address.socketAddress.portValue, 19001);
    const before = first.resources.find((r) => r.name === 'echo.demo:9000')?.version;
    assert.notEqual(delta.resources[0]?.version, before);
    stream.send({ typeUrl: TYPE_URLS.endpoints, responseNonce: delta.nonce });
    // Unsubscribing sends nothing more for that name.
    stream.send({ typeUrl: TYPE_URLS.endpoints, resourceNamesUnsubscribe: ['echo.demo:9000'] });
    assert.ok(await stream.quiet(300));
    const status = a!.xds!.clients().find((c) => c.identity.endsWith('/sa/delta'))?.types.find((t) => t.typeUrl === TYPE_URLS.endpoints);
    assert.deepEqual(status?.names, ['nothing.demo:1', 'other.demo:9000']);
    assert.equal(status?.acked, delta.nonce);
    stream.call.end();
  });

  it('refuses a TLS client without a certificate, a peer domain\'s SVID, and a plaintext client', async () => {
    for (const [what, credentials] of [
      ['no client certificate', credentialsFor(a!, undefined)],
      ['an SVID of cluster-b', credentialsFor(b!, 'spiffe://cluster-b.example.org/ns/demo/sa/client')],
      ['plaintext', grpc.credentials.createInsecure()],
    ] as const) {
      const stream = open(credentials);
      stream.send({ typeUrl: TYPE_URLS.listener, resourceNames: ['echo.demo:9000'] });
      const ended = await stream.ended;
      assert.ok(ended !== undefined, `${what}: the stream must fail`);
      assert.ok([grpc.status.UNAVAILABLE, grpc.status.UNAUTHENTICATED].includes(ended.code), `${what}: ${ended.code} ${ended.details}`);
    }
    assert.deepEqual(a!.xds!.clients().filter((c) => !/\/sa\/(client|nacker|delta|spread-client)$/.test(c.identity)), []);
  });

  it('a service that appears is sent to a client that named it before it existed, and to a wildcard client', async () => {
    const named = open(credentialsFor(a!, 'spiffe://cluster-a.example.org/ns/demo/sa/early'));
    named.send({ typeUrl: TYPE_URLS.endpoints, resourceNames: ['late.demo:9000'] });
    const none = await named.next();
    assert.deepEqual(none.resources, []);
    named.send({ typeUrl: TYPE_URLS.endpoints, resourceNames: ['late.demo:9000'], versionInfo: none.versionInfo, responseNonce: none.nonce });
    // The same identity: the two streams share what the server built for it.
    const wildcard = open(credentialsFor(a!, 'spiffe://cluster-a.example.org/ns/demo/sa/early'));
    wildcard.send({ typeUrl: TYPE_URLS.cluster, resourceNames: [] });
    const clusters = await wildcard.next();
    assert.ok(!clusters.resources.some((r) => r.name === 'late.demo:9000'));
    wildcard.send({ typeUrl: TYPE_URLS.cluster, resourceNames: [], versionInfo: clusters.versionInfo, responseNonce: clusters.nonce });
    const echo = a!.config.services.find((d) => d.name === 'echo')!;
    await a!.agents.register('spiffe://cluster-a.example.org/ns/demo/sa/late', [{ ...echo, name: 'late', endpoints: [{ ...echo.endpoints[0]!, address: '127.0.0.5' }] }]);
    const appeared = await named.next();
    assert.deepEqual(appeared.resources.map((r) => r.clusterName), ['late.demo:9000']);
    const more = await wildcard.next();
    assert.deepEqual(more.resources.map((r) => r.name).sort(), ['echo.demo:9000', 'late.demo:9000', 'other.demo:9000', 'spread.demo:9000']);
    named.call.end();
    wildcard.call.end();
  });

  it('a TrafficSplit between services is a route to weighted clusters', async () => {
    const stream = open(credentialsFor(a!, 'spiffe://cluster-a.example.org/ns/demo/sa/split'));
    await a!.policies.apply([{
      apiVersion: 'causeway.dev/v1alpha1', kind: 'TrafficSplit', metadata: { name: 'echo' },
      spec: { service: 'echo.demo', backends: [{ service: 'echo.demo', weight: 80 }, { service: 'other.demo', weight: 20 }] },
    }]);
    stream.send({ typeUrl: TYPE_URLS.route, resourceNames: ['echo.demo:9000'] });
    const route = (await stream.next()) as unknown as { resources: Array<{ virtualHosts: Array<{ routes: Array<{ route: { weightedClusters?: { clusters: Array<{ name: string; weight: { value: number } }> } } }> }> }> };
    const weighted = route.resources[0]?.virtualHosts[0]?.routes[0]?.route.weightedClusters?.clusters.map((c) => [c.name, c.weight.value]);
    assert.deepEqual(weighted, [['echo.demo:9000', 80], ['other.demo:9000', 20]]);
    stream.call.end();
  });
});
