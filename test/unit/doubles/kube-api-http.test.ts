// The Kubernetes API server double over plain HTTPS and through client-node's generated clients:
// object and list shapes, selectors, pagination, resourceVersion semantics, the writes a source makes
// (ServiceExport status, ServiceImports, Events) and the Status failures a client must handle.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { KubeApiDouble, type KubeObject, type KubeStatus } from '../../doubles/kube-api-server.js';
import { waitFor } from '../../helpers/wait-for.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** Parsed JSON, untyped: the tests check the fields they care about. */
  json: any;
}

function call(api: KubeApiDouble, method: string, path: string, opts: { body?: unknown; contentType?: string; token?: string | null } = {}): Promise<Reply> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const token = opts.token === undefined ? 'sa-token' : opts.token;
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, {
      method, ca: api.caPem,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(body === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json' }),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => {
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw watch: collects the newline-delimited events as they come. */
function watch(api: KubeApiDouble, path: string): { events: Array<{ type: string; object: KubeObject & KubeStatus }>; ended: Promise<number>; close(): void } {
  const events: Array<{ type: string; object: KubeObject & KubeStatus }> = [];
  let close = (): void => undefined;
  const ended = new Promise<number>((resolve, reject) => {
    const req = request(`${api.url}${path}`, { ca: api.caPem, headers: { authorization: 'Bearer sa-token' } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          events.push(JSON.parse(buf.slice(0, i)) as { type: string; object: KubeObject & KubeStatus });
          buf = buf.slice(i + 1);
        }
      });
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err) => (req.destroyed ? resolve(0) : reject(err)));
    req.end();
    close = () => req.destroy();
  });
  return { events, ended, close };
}

const svc = (namespace: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  metadata: { namespace, name, labels }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }] },
});

const SE = { group: 'multicluster.x-k8s.io', version: 'v1alpha1', plural: 'serviceexports' };
const SI = { group: 'multicluster.x-k8s.io', version: 'v1alpha1', plural: 'serviceimports' };

describe('Kubernetes API double: HTTP', () => {
  let api: KubeApiDouble;
  let kc: KubeConfig;

  before(async () => {
    api = new KubeApiDouble('sa-token', { bookmarkIntervalMs: 0 });
    await api.start();
    kc = api.kubeConfig();
  });
  after(() => api.close());

  it('lists are {kind: XList, apiVersion, metadata.resourceVersion, items}; built-in items without kind, custom ones whole', async () => {
    api.apply('services', svc('shop', 'web', { app: 'web' }));
    api.apply('services', svc('pay', 'api', { app: 'api' }));
    api.apply('nodes', { metadata: { name: 'node-1', labels: { 'topology.kubernetes.io/zone': 'eu-1a' } } });
    api.apply('serviceexports', { metadata: { namespace: 'shop', name: 'web' } });
    const all = await call(api, 'GET', '/api/v1/services');
    assert.equal(all.status, 200);
    assert.deepEqual([all.json.kind, all.json.apiVersion, all.json.metadata.resourceVersion], ['ServiceList', 'v1', String(api.revision)]);
    assert.deepEqual(all.json.items.map((i: KubeObject) => `${i.metadata.namespace}/${i.metadata.name}`), ['pay/api', 'shop/web'], 'in key order');
    const web = all.json.items[1] as KubeObject & { spec: Record<string, unknown> };
    assert.equal(web.kind, undefined);
    assert.equal(web.apiVersion, undefined);
    assert.match(web.metadata.uid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(web.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(web.metadata.resourceVersion ?? '', /^\d+$/);
    // The Service strategy's defaults.
    assert.equal(web.spec.type, 'ClusterIP');
    assert.match(String(web.spec.clusterIP), /^10\.96\.\d+\.\d+$/);
    assert.deepEqual(web.spec.ports, [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 80 }]);
    assert.deepEqual((web as { status?: unknown }).status, { loadBalancer: {} });

    const one = await call(api, 'GET', '/api/v1/namespaces/shop/services/web');
    assert.deepEqual([one.json.kind, one.json.apiVersion, one.json.metadata.uid], ['Service', 'v1', web.metadata.uid]);
    assert.deepEqual((await call(api, 'GET', '/api/v1/namespaces/shop/services')).json.items.map((i: KubeObject) => i.metadata.name), ['web']);
    const nodes = await call(api, 'GET', '/api/v1/nodes');
    assert.equal(nodes.json.items[0].metadata.namespace, undefined, 'cluster-scoped');
    assert.equal((await call(api, 'GET', '/api/v1/namespaces/shop/nodes')).status, 404);
    const exports = await call(api, 'GET', '/apis/multicluster.x-k8s.io/v1alpha1/serviceexports');
    assert.deepEqual([exports.json.kind, exports.json.items[0].kind, exports.json.items[0].apiVersion, exports.json.items[0].metadata.generation],
      ['ServiceExportList', 'ServiceExport', 'multicluster.x-k8s.io/v1alpha1', 1]);
    const slices = await call(api, 'GET', '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices');
    assert.deepEqual([slices.json.kind, slices.json.items], ['EndpointSliceList', []]);
  });

  it('labelSelector and fieldSelector on lists; on a watch an object entering or leaving the selection is ADDED or DELETED', async () => {
    api.apply('services', svc('sel', 'a', { tier: 'front', app: 'a' }));
    api.apply('services', svc('sel', 'b', { tier: 'back', app: 'b' }));
    api.apply('services', svc('sel', 'c', { app: 'c' }));
    const names = async (q: string): Promise<string[]> => {
      const r = await call(api, 'GET', `/api/v1/namespaces/sel/services?${q}`);
      assert.equal(r.status, 200, r.text);
      return r.json.items.map((i: KubeObject) => i.metadata.name);
    };
    assert.deepEqual(await names('labelSelector=tier%3Dfront'), ['a']);
    assert.deepEqual(await names('labelSelector=tier%20in%20(front%2Cback)'), ['a', 'b']);
    assert.deepEqual(await names('labelSelector=!tier'), ['c']);
    assert.deepEqual(await names('labelSelector=tier!%3Dfront'), ['b', 'c'], '!= matches objects without the label');
    assert.deepEqual(await names('labelSelector=tier,app%3Db'), ['b']);
    assert.deepEqual(await names('fieldSelector=metadata.name%3Dc'), ['c']);
    assert.deepEqual(await names('fieldSelector=metadata.name!%3Dc,metadata.namespace%3Dsel'), ['a', 'b']);
    api.apply('pods', { metadata: { namespace: 'sel', name: 'p1' }, spec: { nodeName: 'n1', containers: [] } });
    api.apply('pods', { metadata: { namespace: 'sel', name: 'p2' }, spec: { nodeName: 'n2', serviceAccountName: 'web', containers: [] } });
    const pods = await call(api, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn2');
    assert.deepEqual(pods.json.items.map((i: KubeObject) => [i.metadata.name, (i.spec as { serviceAccountName: string }).serviceAccountName]), [['p2', 'web']]);
    assert.equal((await call(api, 'GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1')).json.items[0].spec.serviceAccountName, 'default');

    const w = watch(api, `/api/v1/namespaces/sel/services?watch=true&labelSelector=tier%3Dfront&resourceVersion=${api.revision}`);
    await waitFor('the watch', () => (api.openWatches('services') === 1 ? true : undefined));
    api.modify('services', 'sel', 'b', (o) => { o.metadata.labels = { tier: 'front' }; });
    api.modify('services', 'sel', 'a', (o) => { o.metadata.labels = { tier: 'gone' }; });
    api.modify('services', 'sel', 'b', (o) => { o.metadata.annotations = { note: 'x' }; });
    api.apply('services', svc('other', 'x', { tier: 'front' }));
    await waitFor('three events', () => (w.events.length === 3 ? true : undefined));
    assert.deepEqual(w.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED b', 'DELETED a', 'MODIFIED b']);
    const deleted = w.events[1]?.object;
    assert.deepEqual(deleted?.metadata.labels, { tier: 'front', app: 'a' }, 'the DELETED object is its last matching state...');
    assert.equal(deleted?.metadata.resourceVersion, api.object('services', 'sel', 'a')?.metadata.resourceVersion, '...at the revision that made it leave');
    w.close();
  });

  it('limit and continue page through one revision; a continue token older than the history is 410', async () => {
    for (let i = 0; i < 5; i++) api.apply('services', svc('page', `s${i}`));
    const first = await call(api, 'GET', '/api/v1/namespaces/page/services?limit=2');
    assert.deepEqual(first.json.items.map((i: KubeObject) => i.metadata.name), ['s0', 's1']);
    assert.equal(first.json.metadata.remainingItemCount, 3);
    const token = String(first.json.metadata.continue);
    api.modify('services', 'page', 's2', (o) => { o.metadata.labels = { changed: 'yes' }; });
    api.delete('services', 'page', 's3');
    api.apply('services', svc('page', 's5'));
    const second = await call(api, 'GET', `/api/v1/namespaces/page/services?limit=2&continue=${token}`);
    assert.equal(second.json.metadata.resourceVersion, first.json.metadata.resourceVersion);
    assert.deepEqual(second.json.items.map((i: KubeObject) => [i.metadata.name, i.metadata.labels]), [['s2', {}], ['s3', {}]], 'the state at the first page\'s revision');
    const third = await call(api, 'GET', `/api/v1/namespaces/page/services?limit=2&continue=${String(second.json.metadata.continue)}`);
    assert.deepEqual(third.json.items.map((i: KubeObject) => i.metadata.name), ['s4']);
    assert.equal(third.json.metadata.continue, undefined);
    api.compact();
    const expired = await call(api, 'GET', `/api/v1/namespaces/page/services?limit=2&continue=${token}`);
    assert.deepEqual([expired.status, expired.json.reason, expired.json.code], [410, 'Expired', 410]);
    const bad = await call(api, 'GET', '/api/v1/namespaces/page/services?limit=2&continue=nonsense');
    assert.equal(bad.status, 400);
  });

  it('list resourceVersion: NotOlderThan serves the current state, Exact a past one, a future one is 504, "abc" is 400', async () => {
    const before = api.revision;
    api.apply('services', svc('rv', 'one'));
    const atNow = await call(api, 'GET', `/api/v1/namespaces/rv/services?resourceVersion=${before}`);
    assert.deepEqual([atNow.json.metadata.resourceVersion, atNow.json.items.length], [String(api.revision), 1]);
    const exact = await call(api, 'GET', `/api/v1/namespaces/rv/services?resourceVersion=${before}&resourceVersionMatch=Exact`);
    assert.deepEqual([exact.json.metadata.resourceVersion, exact.json.items.length], [String(before), 0]);
    const future = await call(api, 'GET', `/api/v1/services?resourceVersion=${api.revision + 100}`);
    assert.deepEqual([future.status, future.json.reason, future.json.details.causes[0].reason], [504, 'Timeout', 'ResourceVersionTooLarge']);
    for (const q of ['resourceVersion=abc', 'watch=true&resourceVersion=abc']) {
      const r = await call(api, 'GET', `/api/v1/services?${q}`);
      assert.deepEqual([r.status, r.json.kind, r.json.reason], [400, 'Status', 'BadRequest'], q);
      assert.match(r.json.message, /invalid resource version: .*"abc"/);
    }
  });

  it('ServiceExport status through CustomObjectsApi: json-patch (its default), merge-patch, replace; the main resource keeps the status', async () => {
    api.apply('serviceexports', { metadata: { namespace: 'mcs', name: 'web' } });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const at = { ...SE, namespace: 'mcs', name: 'web' };
    const condition = (status: string) => ({ type: 'Valid', status, reason: 'Exported', message: 'to a, b', lastTransitionTime: '2025-01-01T00:00:00Z' });
    await custom.patchNamespacedCustomObjectStatus({ ...at, body: [{ op: 'add', path: '/status', value: { conditions: [condition('True')] } }] });
    assert.deepEqual((api.object('serviceexports', 'mcs', 'web')?.status as { conditions: unknown[] }).conditions, [condition('True')]);
    await custom.patchNamespacedCustomObjectStatus({ ...at, body: { status: { conditions: [condition('False')] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const merged = api.object('serviceexports', 'mcs', 'web');
    assert.deepEqual((merged?.status as { conditions: unknown[] }).conditions, [condition('False')]);
    assert.equal(merged?.metadata.generation, 1, 'status writes keep the generation');
    const replaced = await custom.replaceNamespacedCustomObjectStatus({ ...at, body: { ...merged, status: { conditions: [] }, metadata: { ...merged?.metadata, labels: { ignored: 'yes' } } } }) as KubeObject;
    assert.deepEqual(replaced.status, { conditions: [] });
    assert.equal(replaced.metadata.labels, undefined, '/status changes nothing but the status');
    // A stale resourceVersion is 409; the main resource ignores status and bumps the generation on a spec change.
    const stale = await custom.replaceNamespacedCustomObjectStatus({ ...at, body: { ...merged, status: {} } }).then(() => undefined, (e: { code: number }) => e.code);
    assert.equal(stale, 409);
    const current = api.object('serviceexports', 'mcs', 'web');
    const main = await custom.replaceNamespacedCustomObject({ ...at, body: { ...current, spec: { note: 'x' }, status: { conditions: [condition('True')] } } }) as KubeObject;
    assert.deepEqual([main.status, main.metadata.generation], [{ conditions: [] }, 2]);
    const unconditional = await call(api, 'PUT', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/mcs/serviceexports/web', { body: { metadata: { name: 'web' } } });
    assert.deepEqual([unconditional.status, unconditional.json.reason], [422, 'Invalid'], 'custom resources have no unconditional update');
    const smp = await call(api, 'PATCH', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/mcs/serviceexports/web/status',
      { body: { status: {} }, contentType: 'application/strategic-merge-patch+json' });
    assert.deepEqual([smp.status, smp.json.reason], [415, 'UnsupportedMediaType']);
  });

  it('ServiceImports over HTTP: create (status dropped: a status subresource), status write, update, delete; watchers see each', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const w = watch(api, `/apis/multicluster.x-k8s.io/v1alpha1/namespaces/imp/serviceimports?watch=1&resourceVersion=${api.revision}`);
    await waitFor('the watch', () => (api.openWatches('serviceimports') === 1 ? true : undefined));
    const body = {
      apiVersion: 'multicluster.x-k8s.io/v1alpha1', kind: 'ServiceImport', metadata: { name: 'web', namespace: 'imp' },
      spec: { type: 'ClusterSetIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }, status: { clusters: [{ cluster: 'a' }] },
    };
    const created = await custom.createNamespacedCustomObject({ ...SI, namespace: 'imp', body }) as KubeObject;
    assert.equal(created.status, undefined);
    const withStatus = await custom.replaceNamespacedCustomObjectStatus({ ...SI, namespace: 'imp', name: 'web', body: { ...created, status: { clusters: [{ cluster: 'a' }] } } }) as KubeObject;
    const updated = await custom.replaceNamespacedCustomObject({ ...SI, namespace: 'imp', name: 'web', body: { ...withStatus, spec: { ...body.spec, ports: [{ port: 81 }] } } }) as KubeObject;
    assert.deepEqual(updated.status, { clusters: [{ cluster: 'a' }] });
    const again = await custom.createNamespacedCustomObject({ ...SI, namespace: 'imp', body }).then(() => undefined, (e: { code: number; body: string }) => e);
    assert.deepEqual([again?.code, (JSON.parse(again?.body ?? '{}') as KubeStatus).reason], [409, 'AlreadyExists']);
    const invalid = await call(api, 'POST', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/imp/serviceimports', { body: { metadata: { name: 'bad' }, spec: { type: 'Other', ports: [] } } });
    assert.deepEqual([invalid.status, invalid.json.reason, invalid.json.details.causes[0].field], [422, 'Invalid', 'spec.type']);
    await custom.deleteNamespacedCustomObject({ ...SI, namespace: 'imp', name: 'web' });
    const missing = await custom.deleteNamespacedCustomObject({ ...SI, namespace: 'imp', name: 'web' }).then(() => undefined, (e: { code: number }) => e.code);
    assert.equal(missing, 404);
    await waitFor('four events', () => (w.events.length === 4 ? true : undefined));
    assert.deepEqual(w.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'MODIFIED', 'DELETED']);
    assert.deepEqual(w.events.map((e) => e.object.kind), ['ServiceImport', 'ServiceImport', 'ServiceImport', 'ServiceImport']);
    w.close();
  });

  it('Events: POST creates (generateName too), lists and watches see them, involvedObject field selectors', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const w = watch(api, `/api/v1/namespaces/ev/events?watch=true&resourceVersion=${api.revision}`);
    await waitFor('the watch', () => (api.openWatches('events') === 1 ? true : undefined));
    const event = await core.createNamespacedEvent({
      namespace: 'ev',
      body: {
        metadata: { generateName: 'web.' }, involvedObject: { kind: 'Service', namespace: 'ev', name: 'web', apiVersion: 'v1' },
        reason: 'Exported', message: 'exported to peer a', type: 'Normal', source: { component: 'causeway' }, count: 1,
      },
    });
    assert.match(event.metadata?.name ?? '', /^web\.[a-z0-9]{5}$/);
    const listed = await call(api, 'GET', '/api/v1/namespaces/ev/events?fieldSelector=involvedObject.name%3Dweb,reason%3DExported');
    assert.equal(listed.json.items.length, 1);
    await waitFor('the ADDED', () => (w.events.length === 1 ? true : undefined));
    assert.equal(w.events[0]?.object.metadata.name, event.metadata?.name);
    const mismatch = await call(api, 'POST', '/api/v1/namespaces/ev/events', { body: { metadata: { name: 'x' }, involvedObject: { namespace: 'other', name: 'web' } } });
    assert.deepEqual([mismatch.status, mismatch.json.details.causes[0].field], [422, 'involvedObject.namespace']);
    w.close();
  });

  it('bad requests get the API server\'s Status: 400, 401, 404, 405, 413, 415', async () => {
    const status = async (r: Promise<Reply>, code: number, reason: string): Promise<Reply> => {
      const reply = await r;
      assert.equal(reply.status, code, reply.text);
      assert.deepEqual([reply.json.kind, reply.json.apiVersion, reply.json.status, reply.json.code, reply.json.reason], ['Status', 'v1', 'Failure', code, reason]);
      return reply;
    };
    await status(call(api, 'GET', '/api/v1/services', { token: null }), 401, 'Unauthorized');
    await status(call(api, 'GET', '/api/v1/services', { token: 'wrong' }), 401, 'Unauthorized');
    const unknown = await status(call(api, 'GET', '/api/v1/configmaps'), 404, 'NotFound');
    assert.equal(unknown.json.message, 'the server could not find the requested resource');
    await status(call(api, 'GET', '/apis/example.com/v1/widgets'), 404, 'NotFound');
    await status(call(api, 'GET', '/api/v1/namespaces/shop/services/nope'), 404, 'NotFound');
    await status(call(api, 'POST', '/api/v1/namespaces/ev/events', { body: '{"metadata": {"name": "x"' }), 400, 'BadRequest');
    await status(call(api, 'POST', '/api/v1/namespaces/ev/events', { body: '[1, 2]' }), 400, 'BadRequest');
    await status(call(api, 'PATCH', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/mcs/serviceexports/web/status',
      { body: '{"status": ', contentType: 'application/merge-patch+json' }), 400, 'BadRequest');
    await status(call(api, 'PATCH', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/mcs/serviceexports/web/status',
      { body: '{}', contentType: 'text/plain' }), 415, 'UnsupportedMediaType');
    await status(call(api, 'PATCH', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/mcs/serviceexports/web',
      { body: [{ op: 'test', path: '/metadata/name', value: 'other' }], contentType: 'application/json-patch+json' }), 422, 'Invalid');
    await status(call(api, 'PUT', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/mcs/serviceexports/web', { body: { metadata: { name: 'other' } } }), 400, 'BadRequest');
    await status(call(api, 'GET', '/api/v1/services?labelSelector=a%20b'), 400, 'BadRequest');
    const field = await status(call(api, 'GET', '/api/v1/services?fieldSelector=spec.type%3DClusterIP'), 400, 'BadRequest');
    assert.equal(field.json.message, 'field label not supported: spec.type');
    await status(call(api, 'POST', '/api/v1/services', { body: svc('x', 'y') }), 405, 'MethodNotAllowed');
    await status(call(api, 'POST', '/api/v1/namespaces/ev/events', { body: `{"metadata":{"name":"big"},"message":"${'x'.repeat(3_200_000)}"}` }), 413, 'RequestEntityTooLarge');
  });

  it('finalizers: DELETE marks the object (202, MODIFIED); the update removing the last finalizer deletes it', async () => {
    api.apply('serviceimports', { metadata: { namespace: 'fin', name: 'web', finalizers: ['causeway.dev/cleanup'] }, spec: { type: 'Headless', ports: [] } });
    const del = await call(api, 'DELETE', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fin/serviceimports/web');
    assert.equal(del.status, 202);
    assert.ok(del.json.metadata.deletionTimestamp);
    const w = watch(api, `/apis/multicluster.x-k8s.io/v1alpha1/serviceimports?watch=true&resourceVersion=${api.revision}`);
    await waitFor('the watch', () => (api.openWatches('serviceimports') === 1 ? true : undefined));
    const patched = await call(api, 'PATCH', '/apis/multicluster.x-k8s.io/v1alpha1/namespaces/fin/serviceimports/web',
      { body: { metadata: { finalizers: null } }, contentType: 'application/merge-patch+json' });
    assert.equal(patched.status, 200);
    assert.equal(api.object('serviceimports', 'fin', 'web'), undefined);
    await waitFor('the DELETED', () => (w.events.length === 1 ? true : undefined));
    assert.equal(w.events[0]?.type, 'DELETED');
    w.close();
  });

  it('a watch without resourceVersion starts with synthetic ADDEDs; sendInitialEvents ends them with an initial-events-end BOOKMARK', async () => {
    api.apply('nodes', { metadata: { name: 'node-2' } });
    const plain = watch(api, '/api/v1/nodes?watch=true');
    const streaming = watch(api, '/api/v1/nodes?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan');
    await waitFor('both', () => (plain.events.length === 2 && streaming.events.length === 3 ? true : undefined));
    assert.deepEqual(plain.events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED node-1', 'ADDED node-2']);
    const bookmark = streaming.events[2];
    assert.deepEqual(bookmark, { type: 'BOOKMARK', object: { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: String(api.revision), annotations: { 'k8s.io/initial-events-end': 'true' } } } });
    const refused = await call(api, 'GET', '/api/v1/nodes?watch=true&sendInitialEvents=true');
    assert.equal(refused.status, 422);
    plain.close();
    streaming.close();
  });

  it('RBAC refusals (forbid, forbiddenNamespaces) are 403 with RBAC\'s text; an absent CRD is 404; discovery lists what is served', async () => {
    api.forbid('watch', 'pods');
    const denied = await call(api, 'GET', '/api/v1/pods?watch=true');
    assert.deepEqual([denied.status, denied.json.reason], [403, 'Forbidden']);
    assert.match(denied.json.message, /^pods is forbidden: User "system:serviceaccount:causeway:causeway-gateway" cannot watch resource "pods" in API group "" at the cluster scope$/);
    assert.equal((await call(api, 'GET', '/api/v1/pods')).status, 200, 'list is still granted');
    api.allow('watch', 'pods');
    api.forbiddenNamespaces.add('kube-system');
    assert.equal((await call(api, 'GET', '/api/v1/namespaces/kube-system/secrets/ca')).status, 403);
    api.forbiddenNamespaces.clear();

    const core = await call(api, 'GET', '/api/v1');
    assert.ok(core.json.resources.some((r: { name: string; namespaced: boolean }) => r.name === 'nodes' && !r.namespaced));
    const groups = await call(api, 'GET', '/apis');
    assert.deepEqual(groups.json.groups.map((g: { name: string }) => g.name), ['discovery.k8s.io', 'multicluster.x-k8s.io']);

    const noCrd = new KubeApiDouble('sa-token', { resources: ['services', 'endpointslices'] });
    await noCrd.start();
    try {
      const absent = await call(noCrd, 'GET', '/apis/multicluster.x-k8s.io/v1alpha1/serviceexports');
      assert.deepEqual([absent.status, absent.json.reason], [404, 'NotFound']);
      assert.equal((await call(noCrd, 'GET', '/apis/multicluster.x-k8s.io/v1alpha1')).status, 404);
    } finally {
      await noCrd.close();
    }
  });

  it('serves the service-account issuer\'s JWKS once set, and health endpoints without a token', async () => {
    assert.equal((await call(api, 'GET', '/openid/v1/jwks')).status, 404);
    api.setServiceAccountJwks({ keys: [{ kty: 'EC', crv: 'P-256', kid: 'k1', x: 'x', y: 'y', use: 'sig', alg: 'ES256' }] });
    const jwks = await call(api, 'GET', '/openid/v1/jwks');
    assert.deepEqual([jwks.status, jwks.headers['content-type'], jwks.json.keys[0].kid], [200, 'application/jwk-set+json', 'k1']);
    assert.equal((await call(api, 'GET', '/readyz', { token: null })).text, 'ok');
  });
});
