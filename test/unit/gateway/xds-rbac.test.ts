// AccessPolicy as RBAC (gateway/xds/rbac-config.ts), judged by a real peer: the server Listener
// is encoded as the xDS server sends it, decoded and its RBAC filters parsed and applied by
// @grpc/grpc-js-xds's own code (resources.js, http-filter.js, rbac.js), and every verdict is
// compared with decideAccess's — the one decision the data plane and explain use — for each
// caller, service and call path of a rule table. Also: which server gets which listener.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { CatalogReader, ServiceRecord } from '../../../registry/index.js';
import { CallerClassifier } from '../../../gateway/policy/classify.js';
import { decideAccess } from '../../../gateway/policy/decide-access.js';
import type { PolicySet } from '../../../gateway/policy/policy-set.js';
import { configAccessRules } from '../../../gateway/policy/static-policies.js';
import { adsService, TYPE_URLS } from '../../../gateway/xds/xds-protos.js';
import { certificateProviderOf } from '../../../gateway/xds/node-metadata.js';
import { SERVER_LISTENER_PREFIX, serverListenerAddress, serverListenerOf } from '../../../gateway/xds/server-listener.js';
import { allow, deny, policySet, trafficClass } from './policy/policy-builders.js';

// grpc-js-xds reads its feature switches when first loaded; RBAC is off by default.
process.env.GRPC_XDS_EXPERIMENTAL_RBAC = 'true';
const require = createRequire(import.meta.url);
const xdsRoot = require.resolve('@grpc/grpc-js-xds').replace(/index\.js$/, '');
(require('@grpc/grpc-js-xds') as { register(): void }).register();
const { decodeSingleResource, LDS_TYPE_URL, HTTP_CONNECTION_MANGER_TYPE_URL } = require(`${xdsRoot}resources.js`) as {
  decodeSingleResource(typeUrl: string, bytes: Buffer): Record<string, unknown>; LDS_TYPE_URL: string; HTTP_CONNECTION_MANGER_TYPE_URL: string;
};
const { parseTopLevelFilterConfig } = require(`${xdsRoot}http-filter.js`) as {
  parseTopLevelFilterConfig(any: { type_url: string; value: Buffer }): { config: { apply(info: unknown): boolean } } | null;
};

const LOCAL = 'corp.example';
const SERVER = `spiffe://${LOCAL}/ns/prod/sa/payments`;
const CALLERS = [
  'spiffe://corp.example/ns/default/sa/scott',
  'spiffe://corp.example/ns/default/sa/alice',
  'spiffe://corp.example/ns/quarantine/sa/old',
  'spiffe://corp.example/ns/quarantine/sa/deep/er',
  'spiffe://partner.example/ns/eu/sa/billing',
  'spiffe://partner.example/ns/eu/sa/other',
  'spiffe://partner.example/ns/eu/sa/billing/x',
  'spiffe://dev.example/ns/x/sa/y',
  'spiffe://other.example/ns/shop/sa/front',
  'spiffe://corp.examplex/ns/default/sa/scott',
];
const PATHS = ['/pay.Pay/Charge', '/admin', '/admin/Users', '/administrator', '/v1/invoices', '/v1/invoices/7', '/v1/invoicesX'];
const SERVICES = ['payments.prod', 'ledger.prod', 'web.shop', 'sandbox.dev'];
const SET = policySet({
  accessRules: [
    ...configAccessRules([{ to: 'web.shop', from: ['spiffe://other.example/*'] }]),
    allow('AccessPolicy/scott', 0, ['spiffe://corp.example/ns/default/sa/scott'], ['payments.prod']),
    allow('AccessPolicy/scott', 1, ['spiffe://partner.example/ns/*/sa/billing'], ['payments.prod'], { methods: ['POST'], paths: ['/v1/invoices'] }),
    deny('AccessPolicy/guard', 0, ['class:dev'], ['*.prod'], { methods: ['POST', 'DELETE'] }),
    deny('AccessPolicy/guard', 1, ['spiffe://corp.example/ns/*/sa/scott'], ['payments.prod'], { paths: ['/admin'] }),
    deny('AccessPolicy/guard', 2, ['anonymous'], ['*.prod']),
    deny('AccessPolicy/guard', 3, ['spiffe://corp.example/ns/quarantine/*'], ['*']),
    allow('AccessPolicy/open', 0, ['class:dev'], ['sandbox.dev']),
  ],
  classes: [trafficClass('dev', ['spiffe://dev.example'])],
});

function record(name: string, namespace: string, endpoints: Array<{ address: string; port: number; identity: string }>, deleted = false): ServiceRecord {
  return {
    name, namespace, deleted, ports: [{ name: 'grpc', port: 9000, protocol: 'grpc' }],
    endpoints: endpoints.map((e) => ({ address: e.address, ports: { grpc: e.port }, identity: e.identity, kind: 'vm', health: 'healthy', weight: 1, labels: {}, locality: { cluster: 'a', region: 'r', zone: 'z' } })),
  } as unknown as ServiceRecord;
}

/** A catalog reader holding local records only: all server-listener.ts reads. */
function catalogOf(records: ServiceRecord[]): CatalogReader {
  return { localCluster: 'a', recordsOf: (origin: string) => (origin === 'a' ? records : []) } as unknown as CatalogReader;
}

/** The length-delimited fields `field` of a protobuf message (wire type 2): enough to take a DiscoveryResponse apart. */
function bytesFields(message: Buffer, field: number): Buffer[] {
  const found: Buffer[] = [];
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = message[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < message.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const length = varint();
      if (key >>> 3 === field) found.push(message.subarray(at, at + length));
      at += length;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`wire type ${wire} in the test's decoder`);
  }
  return found;
}

type Filter = { name: string; apply(id: string, path: string): boolean };

/** The HTTP filters of a server listener, decoded and parsed by grpc-js-xds from the bytes the server would send. */
function filtersOf(listener: Record<string, unknown>): { filters: Filter[]; decoded: Record<string, unknown> } {
  const bytes = adsService().StreamAggregatedResources!.responseSerialize({ versionInfo: '1', typeUrl: TYPE_URLS.listener, resources: [listener], nonce: '1' });
  const any = bytesFields(bytes, 2)[0]!;
  const decoded = decodeSingleResource(LDS_TYPE_URL, bytesFields(any, 2)[0]!);
  const chain = (decoded.filter_chains as Array<{ filters: Array<{ typed_config: { value: Buffer } }>; transport_socket?: unknown }>)[0]!;
  const manager = decodeSingleResource(HTTP_CONNECTION_MANGER_TYPE_URL, chain.filters[0]!.typed_config.value) as {
    http_filters: Array<{ name: string; typed_config: { type_url: string; value: Buffer } }>;
  };
  const filters = manager.http_filters.filter((f) => f.name !== 'envoy.filters.http.router').map((f) => {
    const parsed = parseTopLevelFilterConfig(f.typed_config);
    assert.ok(parsed !== null, `grpc-js-xds refused the filter ${f.name}`);
    return {
      name: f.name,
      apply: (id: string, path: string): boolean => {
        const headers = new grpc.Metadata();
        headers.set(':method', 'POST');
        headers.set(':path', path);
        return parsed.config.apply({
          destinationIp: '10.0.0.1', destinationPort: 9000, sourceIp: '10.0.0.2', headers, tls: true,
          peerCertificate: { subject: {}, subjectaltname: `URI:${id}` }, urlPath: path,
        });
      },
    };
  });
  return { filters, decoded };
}

function listenerFor(service: string, set: PolicySet, provider: string | null = 'causeway'): Record<string, unknown> {
  const [name, namespace] = service.split('.') as [string, string];
  const built = serverListenerOf(`${SERVER_LISTENER_PREFIX}10.0.0.1:9000`, {
    catalog: catalogOf([record(name, namespace, [{ address: '10.0.0.1', port: 9000, identity: SERVER }])]),
    policies: set, trustDomain: LOCAL, caller: SERVER, certificateProvider: provider ?? undefined,
  });
  assert.ok(built !== undefined);
  return built;
}

describe('AccessPolicy as RBAC for xDS-enabled servers, as grpc-js-xds applies it', () => {
  it('gives every caller, service and path the verdict decideAccess gives', () => {
    const classifier = new CallerClassifier();
    let allowed = 0;
    let denied = 0;
    for (const service of SERVICES) {
      const { filters } = filtersOf(listenerFor(service, SET));
      for (const id of CALLERS) {
        for (const path of PATHS) {
          const expected = decideAccess(SET, { caller: classifier.caller(SET, id), service, scope: { method: 'POST', path } }, LOCAL);
          const got = filters.every((f) => f.apply(id, path));
          assert.equal(got, expected.allowed, `${id} → ${service} ${path}: RBAC ${got ? 'allows' : 'denies'}, decideAccess: ${expected.reason}`);
          if (got) allowed += 1;
          else denied += 1;
        }
      }
    }
    // Both verdicts occur often: the table tests something either way.
    assert.ok(allowed > 30 && denied > 30, `${allowed} allowed, ${denied} denied`);
  });

  it('lets the trust domain\'s gateways in to an allow-listed service, except where a deny names them', () => {
    const gateway = `spiffe://${LOCAL}/gateway/gw-1`;
    const listed = filtersOf(listenerFor('payments.prod', SET)).filters;
    assert.equal(listed.every((f) => f.apply(gateway, '/pay.Pay/Charge')), true);
    // Not another trust domain's gateway: those reach the service through ours.
    assert.equal(listed.every((f) => f.apply('spiffe://partner.example/gateway/gw-1', '/pay.Pay/Charge')), false);
    const guarded = policySet({ accessRules: [...SET.accessRules, deny('AccessPolicy/gw', 0, [`spiffe://${LOCAL}/gateway/*`], ['payments.prod'])] });
    assert.equal(filtersOf(listenerFor('payments.prod', guarded)).filters.every((f) => f.apply(gateway, '/pay.Pay/Charge')), false);
  });

  it('serves mTLS through the named certificate provider, and neither TLS nor RBAC without one', () => {
    const secure = filtersOf(listenerFor('ledger.prod', SET)).decoded;
    const chain = (secure.filter_chains as Array<{ transport_socket?: { typed_config?: { type_url: string } } }>)[0]!;
    assert.equal(chain.transport_socket?.typed_config?.type_url, 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext');
    const plain = filtersOf(listenerFor('ledger.prod', SET, null));
    assert.equal((plain.decoded.filter_chains as Array<{ transport_socket?: unknown }>)[0]!.transport_socket ?? null, null);
    assert.deepEqual(plain.filters, []);
  });

  it('has a listener only for the caller\'s own live endpoints on that address and port', () => {
    const records = [
      record('payments', 'prod', [{ address: '10.0.0.1', port: 9000, identity: SERVER }]),
      record('ledger', 'prod', [{ address: '10.0.0.1', port: 9000, identity: SERVER }], true),
      record('web', 'shop', [{ address: '10.0.0.1', port: 9001, identity: 'spiffe://corp.example/ns/shop/sa/web' }]),
    ];
    const build = (address: string, caller: string): Record<string, unknown> | undefined => serverListenerOf(`${SERVER_LISTENER_PREFIX}${address}`, {
      catalog: catalogOf(records), policies: SET, trustDomain: LOCAL, caller, certificateProvider: 'causeway',
    });
    assert.ok(build('10.0.0.1:9000', SERVER) !== undefined);
    assert.ok(build('0.0.0.0:9000', SERVER) !== undefined);
    assert.equal(build('10.0.0.1:9001', SERVER), undefined, 'another workload\'s port');
    assert.equal(build('10.0.0.1:9000', 'spiffe://corp.example/ns/shop/sa/web'), undefined, 'another workload asking');
    assert.equal(build('10.0.0.2:9000', SERVER), undefined, 'another address');
    // The deleted ledger record contributes no RBAC filter: only payments' allow filter (and the deny filter).
    const names = filtersOf(build('10.0.0.1:9000', SERVER)!).filters.map((f) => f.name);
    assert.deepEqual(names, ['causeway.deny', 'causeway.allow.payments.prod']);
  });

  it('reads only well-formed names and metadata', () => {
    assert.deepEqual(serverListenerAddress(`${SERVER_LISTENER_PREFIX}[::1]:50051`), { host: '::1', port: 50051 });
    for (const bad of ['echo.demo:9000', `${SERVER_LISTENER_PREFIX}host.example:80`, `${SERVER_LISTENER_PREFIX}10.0.0.1:0`,
      `${SERVER_LISTENER_PREFIX}10.0.0.1:70000`, `${SERVER_LISTENER_PREFIX}10.0.0.1`, `${SERVER_LISTENER_PREFIX}::1:80`]) {
      assert.equal(serverListenerAddress(bad), undefined, bad);
    }
    const node = (value: unknown): unknown => ({ metadata: { fields: { 'causeway.dev/certificate-provider': { stringValue: value } } } });
    assert.equal(certificateProviderOf(node('causeway')), 'causeway');
    assert.equal(certificateProviderOf(node('has space')), undefined);
    assert.equal(certificateProviderOf(node(7)), undefined);
    assert.equal(certificateProviderOf(undefined), undefined);
  });
});
