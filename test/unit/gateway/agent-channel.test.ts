import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { WebSocket, type ClientOptions } from 'ws';
import { AgentSource, Catalog, FileStore, LocalRegistry, SourceSet, type Locality } from '../../../registry/index.js';
import { CertificateAuthority, SvidRotator, TrustStore, WorkloadIssuer } from '../../../federation/index.js';
import { IdentityServer } from '../../../gateway/identity/identity-server.js';
import { AgentChannel } from '../../../gateway/agent-channel/agent-channel.js';
import { spiffeHttps } from '../../helpers/https-spiffe.js';
import { makeTempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/wait-for.js';

const GATEWAY = 'spiffe://a.test/gateway/gw-a';
const VM1 = 'spiffe://a.test/ns/prod/sa/web';
const VM2 = 'spiffe://a.test/ns/prod/sa/billing';
const LOCALITY: Locality = { cloud: 'aws', region: 'us-east-1', zone: 'a', cluster: 'east' };

function run(command: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => execFile(command, args, (err, _stdout, stderr) => resolve({ code: err === null ? 0 : 1, stderr })));
}

/** The gateway's SVID has a URI SAN only: check that, not a host name (tls.connect's contract; @types/ws types it as boolean). */
const gatewayIdentity = ((_host: string, cert: PeerCertificate): Error | undefined =>
  (cert.subjectaltname?.split(', ').includes(`URI:${GATEWAY}`) ? undefined : new Error('not the gateway'))) as unknown as ClientOptions['checkServerIdentity'];

interface Frame { type: string; code?: string; of?: string; services?: string[] }

/** An agent: its key made on "the host" by openssl, its SVID by join token + CSR, then the channel. */
class TestAgent {
  ws!: WebSocket;
  private readonly frames: Frame[] = [];
  private waiters: Array<() => void> = [];
  constructor(readonly keyPem: string, readonly certPem: string) {}

  async connect(url: string, roots: string[]): Promise<void> {
    this.ws = new WebSocket(url, {
      cert: this.certPem, key: this.keyPem, ca: roots, minVersion: 'TLSv1.3',
      checkServerIdentity: gatewayIdentity,
    } as ClientOptions);
    this.ws.on('message', (data) => {
      this.frames.push(JSON.parse(String(data)) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  /** Sends one frame and waits for the answer to it. */
  async send(frame: unknown): Promise<Frame> {
    const count = this.frames.length;
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    while (this.frames.length <= count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.frames[count] as Frame;
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}

const register = (services: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  v: 1, type: 'register', kind: 'vm', address: '10.0.0.5', locality: { zone: 'b' }, services, ...extra,
});
const web = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'web', namespace: 'prod', export: true, ports: [{ name: 'http', port: 8080 }], labels: { version: 'v1' }, ...extra,
});

describe('agent control channel and AgentSource', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let ca: CertificateAuthority;
  let svid: SvidRotator;
  let trust: TrustStore;
  let store: FileStore;
  let issuer: WorkloadIssuer;
  let server: IdentityServer;
  let channel: AgentChannel;
  let catalog: Catalog;
  let sources: SourceSet;
  let agents: AgentSource;
  let base = '';
  const roots = (): string[] => [...(trust.get('a.test')?.rootsPem ?? [])];
  const url = (): string => `${base.replace('https', 'wss')}/v1/agent`;

  /** Starts the gateway side (catalog, registry, agent source, channel) on the shared store. */
  async function startGatewaySide(leaseMs: number): Promise<void> {
    catalog = new Catalog({ localCluster: 'east' });
    const registry = new LocalRegistry({ catalog });
    agents = new AgentSource({ store, leaseMs });
    sources = new SourceSet({ registry });
    sources.add(agents);
    sources.start();
    await sources.allSynced();
    channel = new AgentChannel({ trustDomain: 'a.test', trust, agents, locality: LOCALITY, maxFrameBytes: 4096, pingIntervalMs: 60_000 });
    server = new IdentityServer({ trustDomain: 'a.test', svid, trust, issuer, onUpgrade: (req, socket, head) => channel.handleUpgrade(req, socket, head) });
    base = `https://127.0.0.1:${(await server.listen('127.0.0.1', 0)).port}`;
  }

  async function stopGatewaySide(): Promise<void> {
    await channel.close();
    await server.close();
    await sources.close();
  }

  /** The join flow: token → key made on the host by openssl (never sent) → CSR → SVID. */
  async function join(name: string, identity: string, asked = identity): Promise<{ status: number; body: string; agent?: TestAgent }> {
    const { token } = await issuer.createJoinToken({ identity, ttlSeconds: 600 });
    return redeem(name, token, asked);
  }

  async function redeem(name: string, token: string, asked: string): Promise<{ status: number; body: string; agent?: TestAgent }> {
    const keyFile = path.join(tmp.dir, `${name}.key`);
    const csrFile = path.join(tmp.dir, `${name}.csr`);
    assert.equal((await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile])).code, 0);
    assert.equal((await run('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-addext', `subjectAltName=URI:${asked}`, '-out', csrFile])).code, 0);
    const answer = await spiffeHttps(`${base}/v1/svid`, {
      rootsPem: roots(), expectServerId: GATEWAY, method: 'POST', body: JSON.stringify({ csr: await readFile(csrFile, 'utf8') }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    if (answer.status !== 201) return { status: answer.status, body: answer.body };
    const issued = JSON.parse(answer.body) as { certChainPem: string };
    return { status: answer.status, body: answer.body, agent: new TestAgent(await readFile(keyFile, 'utf8'), issued.certChainPem) };
  }

  before(async () => {
    tmp = await makeTempDir('agent-channel');
    ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test' });
    trust = new TrustStore();
    trust.set(ca.bundle());
    svid = new SvidRotator({ ca, spiffeId: GATEWAY, ttlSeconds: 3600 });
    store = new FileStore(path.join(tmp.dir, 'state'));
    issuer = new WorkloadIssuer({ ca, trust, store, address: () => '127.0.0.1:15017', rateLimit: { perSecond: 1000, burst: 1000 } });
    await startGatewaySide(300);
  });

  after(async () => {
    await stopGatewaySide();
    svid?.close();
    ca?.close();
    await store?.close();
    await tmp?.remove();
  });

  it('an agent joined by token registers its services; they are in the catalog as vm endpoints with its identity', async () => {
    const joined = await join('vm1', VM1);
    assert.equal(joined.status, 201, joined.body);
    const agent = joined.agent as TestAgent;
    await agent.connect(url(), roots());
    const ack = await agent.send(register([web()]));
    assert.deepEqual([ack.type, ack.of, ack.services], ['ack', 'register', ['web.prod']]);
    const resolved = catalog.resolve('web.prod');
    const endpoint = resolved?.clusters.get('east')?.[0];
    assert.equal(endpoint?.address, '10.0.0.5');
    assert.equal(endpoint?.kind, 'vm');
    assert.equal(endpoint?.identity, VM1);
    assert.deepEqual(endpoint?.locality, { ...LOCALITY, zone: 'b' });
    assert.equal(endpoint?.health, 'healthy');
    assert.equal(catalog.get('east', 'web.prod')?.exported, true);
    assert.equal((await agent.send({ v: 1, type: 'health', service: 'web.prod', health: 'unhealthy' })).type, 'ack');
    assert.equal(catalog.resolve('web.prod')?.clusters.get('east')?.[0]?.health, 'unhealthy');
    assert.equal((await agent.send({ v: 1, type: 'health', service: 'web.prod', health: 'healthy' })).type, 'ack');
    assert.equal((await agent.send({ v: 1, type: 'heartbeat' })).of, 'heartbeat');
    assert.equal(sources.status()[0]?.services, 1);
    await agent.close();
  });

  it('refuses a reused token, an identity outside the grant, and a channel without an SVID — issuing and registering nothing', async () => {
    const { token } = await issuer.createJoinToken({ identity: VM2, ttlSeconds: 600 });
    assert.equal((await redeem('vm2', token, VM2)).status, 201);
    const reused = await redeem('vm2b', token, VM2);
    assert.equal(reused.status, 401);
    assert.match(reused.body, /CW_TOKEN_USED/);
    const outside = await join('vm3', 'spiffe://a.test/ns/prod/*', 'spiffe://a.test/ns/db/sa/admin');
    assert.equal(outside.status, 403);
    assert.match(outside.body, /CW_IDENTITY_NOT_GRANTED/);

    const anonymous = new WebSocket(url(), { ca: roots(), checkServerIdentity: gatewayIdentity } as ClientOptions);
    anonymous.on('error', () => undefined);
    const refusal = await new Promise<{ status: number; body: string }>((resolve) => anonymous.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }));
    assert.equal(refusal.status, 401);
    assert.match(refusal.body, /CW_IDENTITY_REFUSED/);
    assert.deepEqual(catalog.serviceKeys(), ['web.prod']);
  });

  it('refuses malformed, oversized, out-of-order and foreign-identity frames with codes; nothing changes and other agents are unaffected', async () => {
    const other = (await join('vm4', VM2)).agent as TestAgent;
    await other.connect(url(), roots());
    assert.equal((await other.send(register([{ ...web(), name: 'billing' }]))).type, 'ack');

    const bad = (await join('vm5', 'spiffe://a.test/ns/prod/sa/batch')).agent as TestAgent;
    await bad.connect(url(), roots());
    const before = catalog.serviceKeys();
    const refusals: Array<[unknown, string]> = [
      ['{not json', 'CW_FRAME_INVALID'],
      [{ v: 2, type: 'register' }, 'CW_FRAME_INVALID'],
      [{ v: 1, type: 'health', service: 'batch.prod', health: 'unhealthy' }, 'CW_FRAME_INVALID'],
      [register([web({ name: 'batch', identity: VM1 })]), 'CW_IDENTITY_NOT_GRANTED'],
      [register([web({ name: 'batch', ports: [{ name: 'http', port: 70000 }] })]), 'CW_FRAME_INVALID'],
      [register([web({ name: 'batch' })], { kind: 'pod' }), 'CW_FRAME_INVALID'],
      [register([web({ name: 'batch' })], { locality: { cluster: 'west' } }), 'CW_FRAME_INVALID'],
      [register([web({ name: 'batch', labels: { big: 'x'.repeat(5000) } })]), 'CW_FRAME_TOO_LARGE'],
    ];
    for (const [frame, code] of refusals) {
      const answer = await bad.send(frame);
      assert.equal(answer.type, 'error', JSON.stringify(frame).slice(0, 80));
      assert.equal(answer.code, code, JSON.stringify(frame).slice(0, 80));
    }
    assert.deepEqual(catalog.serviceKeys(), before);
    // The refused agent's channel is still usable, and so is the other agent's.
    assert.equal((await bad.send({ v: 1, type: 'heartbeat' })).type, 'ack');
    assert.equal((await other.send({ v: 1, type: 'health', service: 'billing.prod', health: 'healthy' })).type, 'ack');
    assert.equal((await bad.send({ v: 1, type: 'deregister' })).type, 'error', 'deregister before register is out of order');
    await bad.close();
    await other.close();
  });

  it('a dropped agent keeps its endpoints for the lease, then they go unhealthy; re-registering heals; deregister removes', async () => {
    const agent = (await join('vm6', 'spiffe://a.test/ns/prod/sa/cache')).agent as TestAgent;
    await agent.connect(url(), roots());
    await agent.send(register([web({ name: 'cache' })]));
    await agent.close();
    const health = (): string | undefined => catalog.resolve('cache.prod')?.clusters.get('east')?.[0]?.health;
    assert.equal(health(), 'healthy', 'within the lease');
    await waitFor('the lease to expire', () => (health() === 'unhealthy' ? true : undefined), 3000);
    assert.equal(agents.status().find((a) => a.services.includes('cache.prod'))?.state, 'expired');

    await agent.connect(url(), roots());
    await agent.send(register([web({ name: 'cache' })]));
    assert.equal(health(), 'healthy');
    assert.equal((await agent.send({ v: 1, type: 'deregister' })).of, 'deregister');
    assert.equal(catalog.resolve('cache.prod'), undefined);
    await agent.close();
  });

  it('a restarted gateway side restores registrations; a connected agent gets a fresh lease, then goes unhealthy', async () => {
    const agent = (await join('vm7', 'spiffe://a.test/ns/prod/sa/queue')).agent as TestAgent;
    await agent.connect(url(), roots());
    await agent.send(register([web({ name: 'queue' })]));
    await stopGatewaySide();
    await agent.close();

    await startGatewaySide(400);
    const health = (): string | undefined => catalog.resolve('queue.prod')?.clusters.get('east')?.[0]?.health;
    assert.equal(health(), 'healthy', 'restored, within the fresh lease');
    assert.equal(catalog.resolve('web.prod')?.clusters.get('east')?.[0]?.identity, VM1);
    assert.equal(agents.status().find((a) => a.services.includes('queue.prod'))?.state, 'lease');
    await agent.connect(url(), roots());
    await agent.send(register([web({ name: 'queue' })]));
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(health(), 'healthy', 'the agent came back within the lease');
    await agent.close();
    await waitFor('the lease to expire', () => (health() === 'unhealthy' ? true : undefined), 3000);
  });
});
