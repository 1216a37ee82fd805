// The Kubernetes API server double driven through the real client-node 1.4.0 informers (makeInformer,
// ListWatch), as the Kubernetes registry source drives it: list once, then watch; resume after a
// dropped watch; re-list after 410 Gone in both its forms; bookmarks; server-side timeouts; the API
// down; and 5,000 Services with 50,000 endpoints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CoreV1Api, CustomObjectsApi, DiscoveryV1Api, ListWatch, makeInformer, Watch,
  type KubeConfig, type KubernetesListObject, type KubernetesObject,
} from '@kubernetes/client-node';
import { KubeApiDouble, type KubeApiDoubleOptions, type KubeObject } from '../../doubles/kube-api-server.js';
import { waitFor } from '../../helpers/wait-for.js';

type Informer = ListWatch<KubernetesObject>;

/** Every callback an informer made, as `verb ns/name@rv`, and its errors. */
function record(informer: Informer): { events: string[]; errors: unknown[]; connects: number } {
  const seen = { events: [] as string[], errors: [] as unknown[], connects: 0 };
  for (const verb of ['add', 'update', 'delete'] as const) {
    informer.on(verb, (o) => seen.events.push(`${verb} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`));
  }
  informer.on('error', (err) => seen.errors.push(err));
  informer.on('connect', () => seen.connects++);
  return seen;
}

/** The informer's cache as `ns/name@rv`, sorted — compared with the double's own objects. */
const cacheOf = (informer: Informer): string[] =>
  informer.list().map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}@${o.metadata?.resourceVersion ?? ''}`).sort();
const storeOf = (objects: KubeObject[]): string[] =>
  objects.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}@${o.metadata.resourceVersion ?? ''}`).sort();

const service = (namespace: string, name: string, port = 80, labels?: Record<string, string>): KubeObject => ({
  metadata: { namespace, name, ...(labels === undefined ? {} : { labels }) }, spec: { selector: { app: name }, ports: [{ name: 'http', port }] },
});

/** A Watch that adds query parameters client-node's informer never sends (allowWatchBookmarks, timeoutSeconds). */
class WatchWith extends Watch {
  constructor(config: KubeConfig, private readonly extra: Record<string, string | number | boolean>) {
    super(config);
  }

  override watch(path: string, params: Record<string, string | number | boolean | undefined>, cb: (phase: string, obj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
    return super.watch(path, { ...params, ...this.extra }, cb, done);
  }
}

async function withDouble(options: KubeApiDoubleOptions, run: (api: KubeApiDouble, kc: KubeConfig) => Promise<void>): Promise<void> {
  const api = new KubeApiDouble('sa-token', { bookmarkIntervalMs: 0, ...options });
  await api.start();
  try {
    await run(api, api.kubeConfig());
  } finally {
    await api.close();
  }
}

function servicesInformer(kc: KubeConfig): Informer {
  const core = kc.makeApiClient(CoreV1Api);
  return makeInformer(kc, '/api/v1/services', () => core.listServiceForAllNamespaces()) as unknown as Informer;
}

/** A services informer that has listed and whose watch is open at the double. */
async function watchingServices(api: KubeApiDouble, kc: KubeConfig): Promise<{ informer: Informer; seen: ReturnType<typeof record> }> {
  const informer = servicesInformer(kc);
  const seen = record(informer);
  await informer.start();
  await waitFor('the watch', () => (api.openWatches() === 1 ? true : undefined));
  return { informer, seen };
}

const watches = (api: KubeApiDouble, resource = 'services') => api.requestLog({ resource }).filter((r) => r.verb === 'watch');
const lists = (api: KubeApiDouble, resource = 'services') => api.requestLog({ resource }).filter((r) => r.verb === 'list');
const quietly = (informer: Informer): Promise<void> => informer.stop().catch(() => undefined);

describe('Kubernetes API double: client-node informers', () => {
  it('an informer lists once, then watches: creates, updates and deletes reach it as add, update and delete', async () => {
    await withDouble({}, async (api, kc) => {
      api.apply('services', service('shop', 'web'));
      api.apply('services', service('shop', 'cart'));
      const informer = servicesInformer(kc);
      const seen = record(informer);
      await informer.start();
      assert.deepEqual(cacheOf(informer), storeOf(api.list('services')));
      await waitFor('the watch', () => (api.openWatches('services') === 1 ? true : undefined));

      api.apply('services', service('pay', 'api'));
      api.modify('services', 'shop', 'web', (o) => { o.metadata.labels = { tier: 'front' }; });
      api.delete('services', 'shop', 'cart');
      await waitFor('three changes', () => (seen.events.length === 5 ? true : undefined));
      const web = api.object('services', 'shop', 'web');
      assert.deepEqual(seen.events.slice(2), [
        `add pay/api@${api.object('services', 'pay', 'api')?.metadata.resourceVersion ?? ''}`,
        `update shop/web@${web?.metadata.resourceVersion ?? ''}`,
        `delete shop/cart@${api.revision}`,
      ]);
      assert.deepEqual(cacheOf(informer), storeOf(api.list('services')));
      assert.deepEqual(seen.errors, []);

      // One list, then one watch from the list's resourceVersion: no polling.
      const log = api.requestLog({ resource: 'services' });
      assert.deepEqual(log.map((r) => r.verb), ['list', 'watch']);
      assert.equal(log[1]?.query.resourceVersion, '3');
      assert.equal(log[1]?.query.watch, 'true');
      assert.equal(log[1]?.events, 3);
      assert.equal(log[1]?.status, 200);
      await quietly(informer);
    });
  });

  it('after dropWatches() the informer resumes from its last resourceVersion: no re-list, nothing lost or repeated', async () => {
    await withDouble({}, async (api, kc) => {
      api.apply('services', service('shop', 'web'));
      const { informer, seen } = await watchingServices(api, kc);
      for (let round = 1; round <= 3; round++) {
        const before = informer.latestResourceVersion();
        assert.equal(api.dropWatches(), 1);
        // Changes made while the client is reconnecting come from the history, once.
        api.apply('services', service('shop', `svc-${round}`));
        api.modify('services', 'shop', 'web', (o) => { (o.spec as { ports: Array<{ port: number }> }).ports[0]!.port = 8000 + round; });
        await waitFor(`round ${round}`, () => (watches(api).length === round + 1 && api.openWatches() === 1 && seen.events.length === 1 + 2 * round ? true : undefined));
        assert.equal(watches(api)[round]?.query.resourceVersion, before);
      }
      assert.equal(lists(api).length, 1);
      assert.equal(new Set(seen.events).size, seen.events.length, 'no event twice');
      assert.deepEqual(cacheOf(informer), storeOf(api.list('services')));
      assert.equal(seen.errors.length, 0);
      await quietly(informer);
    });
  });

  it('an abrupt reset of a watch stops the informer with an error; start() again resumes without a re-list', async () => {
    await withDouble({}, async (api, kc) => {
      const { informer, seen } = await watchingServices(api, kc);
      api.dropWatches({ abrupt: true });
      await waitFor('the error', () => (seen.errors.length === 1 ? true : undefined));
      assert.match(String((seen.errors[0] as Error).message), /Premature close/);
      api.apply('services', service('shop', 'web'));
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(api.openWatches(), 0, 'client-node does not reconnect after an error');
      await informer.start();
      await waitFor('the missed create', () => (seen.events.length === 1 ? true : undefined));
      assert.equal(lists(api).length, 1);
      await quietly(informer);
    });
  });

  it('compaction passing an open watch: an ERROR event with a 410 Status ends the stream; the informer re-lists and reconciles', async () => {
    await withDouble({}, async (api, kc) => {
      for (const n of ['a', 'b', 'c']) api.apply('services', service('shop', n));
      const { informer, seen } = await watchingServices(api, kc);
      assert.equal(api.compact(), 1);
      // Written after the stream ended: this watch never sees them; the re-list must.
      api.delete('services', 'shop', 'a');
      api.modify('services', 'shop', 'b', (o) => { o.metadata.labels = { v: '2' }; });
      api.apply('services', service('shop', 'd'));
      await waitFor('the re-list and the new watch', () => (lists(api).length === 2 && api.openWatches() === 1 ? true : undefined));
      await waitFor('reconciled', () => (seen.events.length === 6 ? true : undefined));
      assert.deepEqual(seen.events.slice(3).map((e) => e.split('@')[0]).sort(), ['add shop/d', 'delete shop/a', 'update shop/b']);
      assert.deepEqual(cacheOf(informer), storeOf(api.list('services')));
      const first = watches(api)[0];
      assert.equal(first?.events, 1, 'the ERROR event alone');
      assert.ok(first?.endedAt !== undefined);
      assert.equal(watches(api)[1]?.query.resourceVersion, String(api.revision));
      assert.deepEqual(seen.errors, []);
      await quietly(informer);
    });
  });

  for (const form of ['status', 'event'] as const) {
    it(`a watch from before the window (expiredWatch: ${form}) is 410 Gone; the informer re-lists once and misses nothing`, async () => {
      await withDouble({ historyLimit: 5, expiredWatch: form }, async (api, kc) => {
        for (const n of ['a', 'b']) api.apply('services', service('shop', n));
        const informer = servicesInformer(kc);
        const seen = record(informer);
        await informer.start();
        await waitFor('the watch', () => (api.openWatches() === 1 ? true : undefined));
        await informer.stop();
        await waitFor('the watch gone', () => (api.openWatches() === 0 ? true : undefined));
        seen.errors.length = 0; // stop() aborts the watch, which client-node reports as an AbortError
        // More changes than the history keeps: the informer's resourceVersion falls out of the window.
        api.delete('services', 'shop', 'a');
        for (let i = 0; i < 8; i++) api.apply('services', service('shop', `n${i}`));
        api.modify('services', 'shop', 'b', (o) => { o.metadata.annotations = { x: 'y' }; });
        await informer.start();
        await waitFor('re-listed and watching', () => (lists(api).length === 2 && api.openWatches() === 1 ? true : undefined));
        const expired = watches(api)[1];
        assert.equal(expired?.status, form === 'status' ? 410 : 200);
        assert.equal(expired?.events, form === 'status' ? 0 : 1);
        assert.deepEqual(cacheOf(informer), storeOf(api.list('services')));
        const after = seen.events.slice(2).map((e) => e.split('@')[0] ?? '');
        assert.equal(after.length, 10);
        assert.ok(after.includes('delete shop/a') && after.includes('update shop/b'));
        assert.equal(new Set(after).size, after.length);
        assert.deepEqual(seen.errors, []);
        await quietly(informer);
      });
    });
  }

  it('bookmarks (only with allowWatchBookmarks=true) advance the resourceVersion the informer resumes from', async () => {
    await withDouble({}, async (api, kc) => {
      const core = kc.makeApiClient(CoreV1Api);
      const withBookmarks = new ListWatch('/api/v1/services', new WatchWith(kc, { allowWatchBookmarks: true }), () => core.listServiceForAllNamespaces(), false);
      const plain = servicesInformer(kc);
      await withBookmarks.start();
      await plain.start();
      await waitFor('both watches', () => (api.openWatches() === 2 ? true : undefined));
      // Writes to another kind move the cluster's revision, not these watches.
      for (let i = 0; i < 3; i++) api.apply('nodes', { metadata: { name: `node-${i}` } });
      assert.equal(api.bookmark('services'), 1, 'only the watch that allowed bookmarks');
      await waitFor('the bookmark', () => (withBookmarks.latestResourceVersion() === String(api.revision) ? true : undefined));
      assert.equal(plain.latestResourceVersion(), '1');
      api.dropWatches();
      await waitFor('reconnected', () => (watches(api).length === 4 && api.openWatches() === 2 ? true : undefined));
      const resumed = watches(api).slice(2).map((r) => r.query.resourceVersion).sort();
      assert.deepEqual(resumed, ['1', String(api.revision)]);
      assert.equal(watches(api).filter((r) => r.bookmarks > 0).length, 1);
      await quietly(withBookmarks);
      await quietly(plain);
    });
  });

  it('periodic bookmarks every bookmarkIntervalMs', async () => {
    await withDouble({ bookmarkIntervalMs: 100 }, async (api, kc) => {
      const core = kc.makeApiClient(CoreV1Api);
      const informer = new ListWatch('/api/v1/services', new WatchWith(kc, { allowWatchBookmarks: true }), () => core.listServiceForAllNamespaces(), false);
      await informer.start();
      api.apply('pods', { metadata: { namespace: 'shop', name: 'web-0' }, spec: { containers: [{ name: 'app', image: 'web' }] } });
      await waitFor('three bookmarks', () => ((watches(api)[0]?.bookmarks ?? 0) >= 3 ? true : undefined));
      assert.equal(informer.latestResourceVersion(), String(api.revision));
      await quietly(informer);
    });
  });

  it('timeoutSeconds: the server ends the watch; the informer reconnects from its resourceVersion and never re-lists', async () => {
    await withDouble({}, async (api, kc) => {
      const core = kc.makeApiClient(CoreV1Api);
      const informer = new ListWatch('/api/v1/services', new WatchWith(kc, { timeoutSeconds: 1 }), () => core.listServiceForAllNamespaces(), false);
      const seen = record(informer);
      await informer.start();
      api.apply('services', service('shop', 'web'));
      await waitFor('two timeouts', () => (watches(api).filter((r) => r.endedAt !== undefined).length >= 2 ? true : undefined), 20_000);
      for (const w of watches(api).filter((r) => r.endedAt !== undefined)) {
        const lasted = (w.endedAt ?? 0) - w.startedAt;
        assert.ok(lasted >= 900 && lasted < 3000, `a watch lasted ${lasted} ms`);
        assert.equal(w.query.timeoutSeconds, '1');
      }
      assert.equal(watches(api)[1]?.query.resourceVersion, String(api.revision));
      assert.equal(lists(api).length, 1);
      assert.deepEqual(seen.events.map((e) => e.split('@')[0]), ['add shop/web']);
      assert.deepEqual(seen.errors, []);
      await quietly(informer);
    });
  });

  it('without timeoutSeconds the server ends a watch after [minRequestTimeout, 2 x minRequestTimeout)', async () => {
    await withDouble({ minRequestTimeoutSeconds: 1 }, async (api, kc) => {
      const informer = servicesInformer(kc);
      await informer.start();
      await waitFor('a server-side end', () => (watches(api)[0]?.endedAt !== undefined && api.openWatches() === 1 ? true : undefined), 10_000);
      const first = watches(api)[0];
      const lasted = (first?.endedAt ?? 0) - (first?.startedAt ?? 0);
      assert.ok(lasted >= 900 && lasted < 2500, `lasted ${lasted} ms`);
      assert.equal(lists(api).length, 1);
      await quietly(informer);
    });
  });

  it('EndpointSlices (DiscoveryV1Api) and ServiceExports (CustomObjectsApi) informers, with the shapes the API serves', async () => {
    await withDouble({}, async (api, kc) => {
      api.apply('endpointslices', {
        metadata: { namespace: 'shop', name: 'web-abc12', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ addresses: ['10.1.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'shop', name: 'web-0' } }],
      });
      api.apply('serviceexports', { metadata: { namespace: 'shop', name: 'web' } });
      const discovery = kc.makeApiClient(DiscoveryV1Api);
      const custom = kc.makeApiClient(CustomObjectsApi);
      const slices = makeInformer(kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces()) as unknown as Informer;
      const exports = makeInformer(kc, '/apis/multicluster.x-k8s.io/v1alpha1/serviceexports',
        () => custom.listClusterCustomObject({ group: 'multicluster.x-k8s.io', version: 'v1alpha1', plural: 'serviceexports' }) as Promise<KubernetesListObject<KubernetesObject>>) as unknown as Informer;
      const slicesSeen = record(slices);
      const exportsSeen = record(exports);
      await slices.start();
      await exports.start();
      const listed = slices.get('web-abc12', 'shop') as unknown as { kind?: string; ports: Array<{ protocol: string }>; endpoints: unknown[] };
      assert.equal(listed.kind, undefined, 'list items of a built-in kind carry no kind');
      assert.equal(listed.ports[0]?.protocol, 'TCP');
      assert.equal((exports.get('web', 'shop') as { kind?: string }).kind, 'ServiceExport', 'custom resources are listed whole');
      await waitFor('both watches', () => (api.openWatches() === 2 ? true : undefined));

      // Scale to zero: an EndpointSlice without endpoints is served with "endpoints": null.
      api.modify('endpointslices', 'shop', 'web-abc12', (o) => { o.endpoints = []; });
      api.modify('serviceexports', 'shop', 'web', (o) => { o.status = { conditions: [{ type: 'Valid', status: 'True' }] }; });
      await waitFor('the updates', () => (slicesSeen.events.length === 2 && exportsSeen.events.length === 2 ? true : undefined));
      const scaled = slices.get('web-abc12', 'shop') as unknown as { kind?: string; endpoints: unknown; metadata: { generation: number } };
      assert.equal(scaled.kind, 'EndpointSlice', 'watch objects carry kind and apiVersion');
      assert.equal(scaled.endpoints, null);
      assert.equal(scaled.metadata.generation, 2);
      assert.equal((exports.get('web', 'shop') as { metadata: { generation: number } }).metadata.generation, 1, 'a status change keeps the generation');
      await quietly(slices);
      await quietly(exports);
    });
  });

  it('the API down: refused connections and 503s are informer errors; after up() start() resumes and catches up', async () => {
    await withDouble({}, async (api, kc) => {
      const { informer, seen } = await watchingServices(api, kc);

      await api.down();
      await waitFor('the reset', () => (seen.errors.length === 1 ? true : undefined));
      await informer.start();
      await waitFor('refused', () => (seen.errors.length === 2 ? true : undefined));
      assert.match(String((seen.errors[1] as Error).message), /ECONNREFUSED/);
      api.apply('services', service('shop', 'while-down'));
      await api.up();
      await informer.start();
      await waitFor('caught up', () => (seen.events.length === 1 ? true : undefined));

      await api.down('unavailable');
      await waitFor('503', () => (seen.errors.length === 3 ? true : undefined));
      assert.equal((seen.errors[2] as { statusCode?: number }).statusCode, 503);
      const listFailure = await kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces().then(() => undefined, (err: unknown) => err as { code: number; body: string });
      assert.equal(listFailure?.code, 503);
      assert.equal((JSON.parse(listFailure?.body ?? '{}') as { reason?: string }).reason, 'ServiceUnavailable');
      await api.up();
      await informer.start();
      await waitFor('watching again', () => (api.openWatches() === 1 ? true : undefined));
      // The informer kept its resourceVersion: every restart was a watch (the second list is the test's own 503).
      assert.deepEqual(lists(api).map((r) => r.status), [200, 503]);
      assert.deepEqual(cacheOf(informer), storeOf(api.list('services')));
      await quietly(informer);
    });
  });

  it('without the right token: 401, reported to the informer\'s error callback', async () => {
    await withDouble({}, async (api) => {
      const kc = api.kubeConfig('wrong');
      const informer = servicesInformer(kc);
      const seen = record(informer);
      await informer.start();
      assert.equal((seen.errors[0] as { code?: number }).code, 401);
      assert.equal(informer.latestResourceVersion(), '');
      assert.deepEqual(api.requestLog().map((r) => [r.verb, r.status]), [['list', 401]]);
    });
  });

  it('5,000 Services and 5,000 EndpointSlices with 50,000 endpoints: loaded, listed and watched quickly', async (t) => {
    await withDouble({}, async (api, kc) => {
      let t0 = performance.now();
      for (let s = 0; s < 5000; s++) {
        const ns = `ns-${s % 50}`;
        api.apply('services', service(ns, `svc-${s}`, 80, { app: `svc-${s}` }));
        api.apply('endpointslices', {
          metadata: { namespace: ns, name: `svc-${s}-x1`, labels: { 'kubernetes.io/service-name': `svc-${s}` } },
          addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }],
          endpoints: Array.from({ length: 10 }, (_, i) => ({
            addresses: [`10.${(s >> 8) & 255}.${s & 255}.${i + 1}`], conditions: { ready: true, serving: true, terminating: false },
            nodeName: `node-${i}`, zone: 'a', targetRef: { kind: 'Pod', namespace: ns, name: `svc-${s}-${i}` },
          })),
        });
      }
      const load = performance.now() - t0;
      const core = kc.makeApiClient(CoreV1Api);
      const discovery = kc.makeApiClient(DiscoveryV1Api);
      const services = makeInformer(kc, '/api/v1/services', () => core.listServiceForAllNamespaces()) as unknown as Informer;
      const slices = makeInformer(kc, '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces()) as unknown as Informer;
      t0 = performance.now();
      await Promise.all([services.start(), slices.start()]);
      const sync = performance.now() - t0;
      assert.equal(services.list().length, 5000);
      assert.equal(slices.list().reduce((n, s) => n + ((s as unknown as { endpoints: unknown[] }).endpoints.length), 0), 50_000);
      await waitFor('both watches', () => (api.openWatches() === 2 ? true : undefined));
      t0 = performance.now();
      let seen = 0;
      slices.on('update', () => seen++);
      for (let s = 0; s < 100; s++) {
        api.modify('endpointslices', `ns-${s % 50}`, `svc-${s}-x1`, (o) => {
          ((o.endpoints as Array<{ conditions: { ready: boolean } }>)[0]!).conditions.ready = false;
        });
      }
      await waitFor('100 updates', () => (seen === 100 ? true : undefined));
      const updates = performance.now() - t0;
      t.diagnostic(`load ${load.toFixed(0)} ms, informer sync (both lists) ${sync.toFixed(0)} ms, 100 slice updates delivered ${updates.toFixed(0)} ms`);
      assert.ok(load < 20_000 && sync < 30_000, 'generous bounds: this only catches a quadratic slip');
      await quietly(services);
      await quietly(slices);
    });
  });
});
