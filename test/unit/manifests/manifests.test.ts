import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { parseConfigText, type GatewayConfig } from '../../../gateway/index.js';
import { CausewayError } from '../../../registry/index.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { kubernetesProblems } from './kube-schema.js';

type Node = Record<string, any>;

/** terraform/modules/gateway-kubernetes: manifests/ (kubectl apply -k) and crds/ (npm run crds). */
const MODULE = path.join(REPO_ROOT, 'terraform', 'modules', 'gateway-kubernetes');
const MANIFESTS = path.join(MODULE, 'manifests');
const CRDS = path.join(MODULE, 'crds');
const NAMESPACE = 'causeway-system';
const SERVICE_ACCOUNT = 'causeway-gateway';
const CA_SECRET = 'causeway-ca';
/** The documentation range (RFC 5737) stands in for the LoadBalancer's address. */
const ADVERTISED_IP = '192.0.2.10';

const manifestFiles = readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();

interface Document {
  where: string;
  object: Node;
}

function documentsOf(file: string): Document[] {
  const text = readFileSync(file, 'utf8');
  return parseAllDocuments(text).flatMap((doc, i) => {
    const where = `${path.relative(MODULE, file)}#${i}`;
    assert.deepEqual([...doc.errors, ...doc.warnings].map((e) => e.message), [], `${where} is not clean YAML`);
    const object: unknown = doc.toJS();
    return object === null ? [] : [{ where, object: object as Node }];
  });
}

const documents = manifestFiles.flatMap((f) => documentsOf(path.join(MANIFESTS, f)));

function only(kind: string, name?: string): Node {
  const found = documents.filter((d) => d.object.kind === kind && (name === undefined || d.object.metadata?.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name === undefined ? '' : ` ${name}`}`);
  return (found[0] as Document).object;
}

const deployment = only('Deployment', 'causeway-gateway');
const pod = deployment.spec.template.spec as Node;
const container = pod.containers[0] as Node;
const containerPorts = new Map<string, number>((container.ports as Node[]).map((p) => [p.name as string, p.containerPort as number]));
const configMap = only('ConfigMap', 'causeway-gateway-config');
const configText = configMap.data['gateway.yaml'] as string;
/** A Service's ports as name → [port, targetPort]. */
const portsOf = (service: Node): Record<string, [number, string]> =>
  Object.fromEntries((service.spec.ports as Node[]).map((p) => [p.name as string, [p.port as number, p.targetPort as string]]));

/** The ConfigMap's gateway config through the real validator, with the advertise placeholders filled. */
function validatedConfig(): GatewayConfig {
  return parseConfigText(configText.replaceAll('LOAD_BALANCER_IP', ADVERTISED_IP), '/etc/causeway/gateway.yaml');
}

describe('Kubernetes manifests: files', () => {
  it('are numbered in apply order, and every document parses as one Kubernetes object with a name', () => {
    assert.ok(manifestFiles.length >= 9, 'the manifest files are found');
    for (const file of manifestFiles) assert.match(file, /^\d\d-[a-z0-9-]+\.yaml$/, file);
    const numbers = manifestFiles.map((f) => f.slice(0, 2));
    assert.equal(new Set(numbers).size, numbers.length, 'no two files share a number');
    assert.equal(manifestFiles[0], '00-namespace.yaml', 'the namespace is applied first');
    for (const { where, object } of documents) {
      assert.equal(typeof object.apiVersion, 'string', where);
      assert.equal(typeof object.kind, 'string', where);
      assert.match(String(object.metadata?.name), /^[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/, `${where}: metadata.name`);
    }
  });

  it('validate against the Kubernetes OpenAPI schema of their kind, with no unknown field (the CRDs of ../crds too)', () => {
    const crds = readdirSync(CRDS).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').flatMap((f) => documentsOf(path.join(CRDS, f)));
    assert.equal(crds.length, 3);
    const problems = [...documents, ...crds].flatMap(({ where, object }) => kubernetesProblems(object, where));
    assert.deepEqual(problems, []);
  });

  it('the schema check finds what it should (guards against a vacuous pass)', () => {
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].readinesProbe = broken.spec.template.spec.containers[0].readinessProbe;
    delete broken.spec.template.spec.containers[0].name;
    broken.spec.replicas = 'two';
    const problems = kubernetesProblems(broken, 'broken').join('\n');
    assert.match(problems, /containers\[0\]\.readinesProbe: unknown field of V1Container/);
    assert.match(problems, /containers\/0 must have required property name/);
    assert.match(problems, /\/spec\/replicas must be integer/);
    assert.match(kubernetesProblems({ apiVersion: 'v1', kind: 'Frobnicator', metadata: { name: 'x' } }, 'x').join(), /not a known apiVersion and kind/);
    assert.match(kubernetesProblems({ ...only('ClusterRole'), rules: [{ apiGroups: [''], resources: ['pods'] }] }, 'r').join(), /required property verbs/);
  });

  it('namespaced objects are in causeway-system; cluster-scoped ones have no namespace', () => {
    only('Namespace', NAMESPACE);
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
    for (const { where, object } of documents) {
      if (clusterScoped.has(object.kind)) assert.equal(object.metadata.namespace, undefined, where);
      else assert.equal(object.metadata.namespace, NAMESPACE, where);
    }
  });

  it('kustomization.yaml lists every manifest file, in order, and nothing that is not there', () => {
    const kustomization = parse(readFileSync(path.join(MANIFESTS, 'kustomization.yaml'), 'utf8')) as Node;
    assert.equal(kustomization.apiVersion, 'kustomize.config.k8s.io/v1beta1');
    assert.equal(kustomization.kind, 'Kustomization');
    assert.deepEqual(Object.keys(kustomization).sort(), ['apiVersion', 'images', 'kind', 'resources']);
    assert.deepEqual((kustomization.resources as string[]).filter((r) => !r.startsWith('../')), manifestFiles);
    assert.ok((kustomization.resources as string[]).includes('../crds'), 'the policy CRDs are applied with the manifests');
    // kustomize loads files only from inside the kustomization's directory (LoadRestrictionsRootOnly);
    // a directory outside it must hold a kustomization of its own.
    for (const entry of kustomization.resources as string[]) {
      const target = path.resolve(MANIFESTS, entry);
      if (!target.startsWith(MANIFESTS + path.sep)) assert.ok(existsSync(path.join(target, 'kustomization.yaml')), `${entry}: kustomize cannot load it`);
    }
    assert.deepEqual((kustomization.images as Node[]).map((i) => i.name), [String(container.image).split(':')[0]], 'images names the Deployment\'s image');
    for (const image of kustomization.images as Node[]) assert.notEqual(image.newTag, 'latest');
  });
});

describe('Kubernetes manifests: RBAC', () => {
  const rbac = documents.filter((d) => d.object.apiVersion === 'rbac.authorization.k8s.io/v1').map((d) => `${d.object.kind}/${d.object.metadata.name}`);

  it('is one ClusterRole, one Role and their bindings, and nothing else', () => {
    assert.deepEqual(rbac.sort(), [
      'ClusterRole/causeway-gateway', 'ClusterRoleBinding/causeway-gateway', 'Role/causeway-gateway-ca', 'RoleBinding/causeway-gateway-ca',
    ]);
  });

  it('the ClusterRole grants exactly what the Kubernetes source reads and writes', () => {
    assert.deepEqual(only('ClusterRole', 'causeway-gateway').rules, [
      { apiGroups: [''], resources: ['services', 'pods', 'nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports/status'], verbs: ['update', 'patch'] },
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceimports'], verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'] },
      { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceimports/status'], verbs: ['update', 'patch'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      { nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'], verbs: ['get'] },
    ]);
  });

  it('the Role grants get and watch on the CA Secret, by name, and nothing else', () => {
    const role = only('Role', 'causeway-gateway-ca');
    assert.equal(role.metadata.namespace, NAMESPACE);
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['secrets'], resourceNames: [CA_SECRET], verbs: ['get', 'watch'] }]);
  });

  it('no rule has a wildcard, and no Secret can be listed or watched without its name', () => {
    for (const kind of ['ClusterRole', 'Role']) {
      for (const rule of only(kind).rules as Node[]) {
        const values = [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...(rule.verbs ?? []), ...(rule.nonResourceURLs ?? []), ...(rule.resourceNames ?? [])] as string[];
        assert.deepEqual(values.filter((v) => v.includes('*')), [], `${kind}: ${JSON.stringify(rule)}`);
        const secrets = (rule.resources ?? []).some((r: string) => r === 'secrets' || r.startsWith('secrets/'));
        if (secrets) {
          assert.equal(kind, 'Role', 'Secrets only in the namespaced Role');
          assert.ok((rule.resourceNames ?? []).length > 0, 'Secrets only by name');
          assert.ok(!rule.verbs.includes('list'), 'never list Secrets');
        }
      }
    }
  });

  it('each binding gives its role to the gateway\'s ServiceAccount alone', () => {
    only('ServiceAccount', SERVICE_ACCOUNT);
    const subjects = [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }];
    const cluster = only('ClusterRoleBinding', 'causeway-gateway');
    assert.deepEqual(cluster.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'causeway-gateway' });
    assert.deepEqual(cluster.subjects, subjects);
    const namespaced = only('RoleBinding', 'causeway-gateway-ca');
    assert.deepEqual(namespaced.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'causeway-gateway-ca' });
    assert.deepEqual(namespaced.subjects, subjects);
    assert.equal(pod.serviceAccountName, SERVICE_ACCOUNT);
  });
});

describe('Kubernetes manifests: the gateway Deployment', () => {
  it('runs 2 replicas of a tagged image under the gateway\'s ServiceAccount', () => {
    assert.equal(deployment.spec.replicas, 2);
    assert.match(container.image, /^[^:@]+:[^:@]+$/, 'image has a tag');
    assert.doesNotMatch(container.image, /:latest$/);
    assert.deepEqual(deployment.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'causeway-gateway' });
    for (const [key, value] of Object.entries(deployment.spec.selector.matchLabels as Record<string, string>)) {
      assert.equal(deployment.spec.template.metadata.labels[key], value, 'the selector matches the pod template');
    }
  });

  it('is non-root, read-only, without capabilities, under RuntimeDefault seccomp', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.notEqual(pod.securityContext.runAsUser, 0);
    assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.deepEqual(container.securityContext, {
      runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.equal(pod.hostNetwork, undefined);
    assert.equal((pod.containers as Node[]).length, 1);
  });

  it('is ready on /readyz and alive on /healthz of the admin port, 15000', () => {
    assert.equal(containerPorts.get('admin'), 15000);
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'admin' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'admin' });
    assert.deepEqual(container.startupProbe.httpGet, { path: '/healthz', port: 'admin' });
  });

  it('declares every listener port by name', () => {
    assert.deepEqual(Object.fromEntries(containerPorts), {
      'east-west': 15443, federation: 15012, identity: 15017, outbound: 15001, xds: 15010, admin: 15000,
    });
    for (const port of container.ports as Node[]) assert.equal(port.protocol, 'TCP');
  });

  it('requests and limits CPU and memory', () => {
    for (const bound of ['requests', 'limits']) {
      assert.deepEqual(Object.keys(container.resources[bound]).sort(), ['cpu', 'memory'], bound);
    }
  });

  it('spreads its replicas over zones and nodes', () => {
    const keys = (pod.topologySpreadConstraints as Node[]).map((c) => c.topologyKey);
    assert.deepEqual(keys, ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    for (const c of pod.topologySpreadConstraints as Node[]) assert.deepEqual(c.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
  });

  it('mounts the ConfigMap at /etc/causeway and puts the data dir on a volume', () => {
    const mounts = new Map<string, Node>((container.volumeMounts as Node[]).map((m) => [m.name as string, m]));
    const volumes = new Map<string, Node>((pod.volumes as Node[]).map((v) => [v.name as string, v]));
    assert.deepEqual([...mounts.keys()].sort(), [...volumes.keys()].sort(), 'every volume mounted, every mount a volume');
    assert.equal(mounts.get('config')?.mountPath, '/etc/causeway');
    assert.equal(mounts.get('config')?.readOnly, true);
    assert.equal(volumes.get('config')?.configMap?.name, configMap.metadata.name);
    assert.ok(volumes.get('data')?.emptyDir !== undefined, 'data dir on an emptyDir (README: State and replicas)');
    const dataDir = (parse(configText) as Node).dataDir as string;
    assert.ok(dataDir.startsWith(`${mounts.get('data')?.mountPath as string}/`), `dataDir ${dataDir} is on the data volume`);
  });

  it('gives the downward API\'s pod name, namespace and node name as POD_NAME, POD_NAMESPACE, NODE_NAME', () => {
    assert.deepEqual((container.env as Node[]).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]), [
      ['POD_NAME', 'metadata.name'], ['POD_NAMESPACE', 'metadata.namespace'], ['NODE_NAME', 'spec.nodeName'],
    ]);
  });
});

describe('Kubernetes manifests: Services and the disruption budget', () => {
  const labels = deployment.spec.template.metadata.labels as Record<string, string>;
  const selects = (selector: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

  it('a LoadBalancer carries east-west, federation and identity to the named container ports', () => {
    const service = only('Service', 'causeway-gateway-east-west');
    assert.equal(service.spec.type, 'LoadBalancer');
    assert.equal(service.spec.externalTrafficPolicy, 'Local');
    assert.ok(selects(service.spec.selector));
    assert.deepEqual(portsOf(service), { 'east-west': [15443, 'east-west'], federation: [15012, 'federation'], identity: [15017, 'identity'] });
  });

  it('a ClusterIP Service carries outbound and admin, for callers in the cluster', () => {
    const service = only('Service', 'causeway-gateway');
    assert.equal(service.spec.type, 'ClusterIP');
    assert.ok(selects(service.spec.selector));
    assert.deepEqual(portsOf(service), { outbound: [15001, 'outbound'], admin: [15000, 'admin'] });
  });

  it('every Service port targets a declared container port', () => {
    for (const service of documents.filter((d) => d.object.kind === 'Service')) {
      for (const port of service.object.spec.ports as Node[]) assert.ok(containerPorts.has(port.targetPort), `${service.where}: ${port.name}`);
    }
  });

  it('a PodDisruptionBudget keeps one replica', () => {
    const pdb = only('PodDisruptionBudget', 'causeway-gateway');
    assert.equal(pdb.spec.minAvailable, 1);
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  });
});

describe('Kubernetes manifests: the gateway config', () => {
  it('passes the gateway\'s config validator once the advertise addresses are set', () => {
    const config = validatedConfig();
    assert.equal(config.dataDir, '/var/lib/causeway/data');
    for (const key of ['eastWest', 'federation', 'identity'] as const) assert.equal(config.advertise[key]?.host, ADVERTISED_IP, key);
  });

  it('as shipped, is refused until the advertise addresses are set (the gateway does not start with a placeholder)', () => {
    assert.throws(() => parseConfigText(configText), (err: unknown) => {
      assert.ok(err instanceof CausewayError);
      for (const key of ['eastWest', 'federation', 'identity']) {
        assert.ok(err.details.includes(`advertise.${key}: "LOAD_BALANCER_IP" is not an IP address (names are never resolved)`), key);
      }
      return true;
    });
  });

  it('listens on every address at the ports the Deployment declares, and advertises the LoadBalancer\'s', () => {
    const config = validatedConfig();
    const byName = { eastWest: 'east-west', federation: 'federation', identity: 'identity', outbound: 'outbound', admin: 'admin' } as const;
    for (const [key, port] of Object.entries(byName)) {
      const listen = config.listen[key as keyof typeof byName];
      assert.deepEqual([listen.host, listen.port], ['0.0.0.0', containerPorts.get(port)], key);
    }
    const lb = portsOf(only('Service', 'causeway-gateway-east-west'));
    for (const key of ['eastWest', 'federation', 'identity'] as const) assert.equal(config.advertise[key]?.port, lb[byName[key]]?.[0], key);
  });

  it('reads the CA from the Secret the Role grants, and this cluster\'s Services with the in-cluster config', () => {
    const config = validatedConfig();
    assert.deepEqual(config.trust.intermediate, { kind: 'secret', secret: { namespace: NAMESPACE, name: CA_SECRET } });
    assert.deepEqual((parse(configText) as Node).sources, { kubernetes: {} });
    assert.deepEqual(config.sources.kubernetes, { name: 'kubernetes', kubeconfig: undefined, serviceExports: true, serviceImports: false }, 'in-cluster config, MCS ServiceExports followed');
  });
});
