import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority, TrustStore, buildCsr, newKeyPair, parseCsr, type Svid, type SvidSource } from '../../../federation/index.js';
import { isCausewayError } from '../../../registry/index.js';
import { AgentInbound } from '../../../gateway/agent/agent-inbound.js';
import { connectEndpoint, portOfSidecarServerName, sidecarServerName } from '../../../gateway/dataplane/endpoint-connector.js';
import { makeTempDir } from '../../helpers/paths.js';

const TD = 'sidecar.test';
const VM = `spiffe://${TD}/ns/legacy/sa/billing`;
const GATEWAY = `spiffe://${TD}/gateway/gw-1`;

function source(svid: Svid): SvidSource {
  return { current: () => svid, onRotate: () => () => {} };
}

/** An echo service on 127.0.0.1: what the sidecar forwards to. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

async function roundTrip(socket: import('node:net').Socket, text: string): Promise<string> {
  socket.write(text);
  const [chunk] = await Promise.race([
    new Promise<Buffer[]>((resolve) => socket.once('data', (c: Buffer) => resolve([c]))),
    new Promise<Buffer[]>((_, reject) => setTimeout(() => reject(new Error('no echo')), 5000).unref()),
  ]);
  return chunk?.toString() ?? '';
}

describe('the sidecar hop: a gateway to an agent\'s inbound listener', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let ca: CertificateAuthority;
  const trust = new TrustStore();
  let inbound: AgentInbound;
  let inboundPort: number;
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let gatewaySvid: Svid;

  before(async () => {
    tmp = await makeTempDir('sidecar-hop');
    ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: TD });
    trust.set(ca.bundle());
    gatewaySvid = ca.issueKeyAndSvid(GATEWAY, 3600);
    echo = await echoServer();
    inbound = new AgentInbound({ svid: source(ca.issueKeyAndSvid(VM, 3600)), trust, trustDomain: TD, ports: () => new Set([echo.port]) });
    inboundPort = (await inbound.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    inbound?.close();
    echo?.server.close();
    ca?.close();
    await tmp?.remove();
  });

  const endpoint = (identity = VM): { address: string; identity: string; sidecarPort: number } => ({ address: '127.0.0.1', identity, sidecarPort: inboundPort });
  const credentials = (svid: Svid): { svid: SvidSource; trust: TrustStore; trustDomain: string } => ({ svid: source(svid), trust, trustDomain: TD });

  it('a gateway reaches a registered port through the sidecar with mTLS, bytes both ways', async () => {
    const socket = await connectEndpoint(endpoint(), echo.port, 5000, credentials(gatewaySvid));
    assert.equal(await roundTrip(socket, 'ping'), 'ping');
    socket.destroy();
    assert.equal(inbound.stats().accepted >= 1, true);
  });

  it('refuses a port the agent did not register (the connection closes, no byte reaches a service)', async () => {
    const socket = await connectEndpoint(endpoint(), 1, 5000, credentials(gatewaySvid));
    // The sidecar hop is half-open capable (a FIN is carried through): the refusal shows as the end of input.
    await new Promise<void>((resolve) => {
      socket.once('end', () => resolve());
      socket.once('close', () => resolve());
      socket.resume();
    });
    socket.destroy();
    assert.ok(inbound.stats().refused >= 1);
  });

  it('refuses a workload certificate: only a gateway may open the hop', async () => {
    const workload = ca.issueKeyAndSvid(`spiffe://${TD}/ns/web/sa/frontend`, 3600);
    const refusedBefore = inbound.stats().refused;
    const outcome = await connectEndpoint(endpoint(), echo.port, 5000, credentials(workload)).then(
      async (socket) => new Promise<string>((resolve) => {
        socket.once('end', () => resolve('closed'));
        socket.once('close', () => resolve('closed'));
        socket.once('error', () => resolve('closed'));
        socket.resume();
        socket.write('x');
      }).finally(() => socket.destroy()),
      (err: unknown) => (isCausewayError(err) ? err.code : String(err)),
    );
    assert.ok(outcome === 'closed' || outcome === 'CW_UPSTREAM_CONNECT', outcome);
    assert.ok(inbound.stats().refused > refusedBefore);
  });

  it('the gateway refuses a sidecar that is not the endpoint\'s identity', async () => {
    await assert.rejects(connectEndpoint(endpoint(`spiffe://${TD}/ns/legacy/sa/other`), echo.port, 5000, credentials(gatewaySvid)), (err: Error) => {
      assert.ok(isCausewayError(err, 'CW_UPSTREAM_CONNECT'));
      assert.match(err.message, /expected spiffe:\/\/sidecar\.test\/ns\/legacy\/sa\/other/);
      return true;
    });
  });

  it('an endpoint behind a sidecar without credentials to present is refused with a reason', async () => {
    await assert.rejects(connectEndpoint(endpoint(), echo.port, 5000, undefined), /no SVID to present/);
  });

  it('the server name carries the port and nothing else', () => {
    assert.equal(portOfSidecarServerName(sidecarServerName(8080)), 8080);
    for (const bad of ['port-0.sidecar.invalid', 'port-65536.sidecar.invalid', 'port-80.sidecar.example', 'echo.demo', false, null, undefined] as const) {
      assert.equal(portOfSidecarServerName(bad), undefined, String(bad));
    }
  });

  it('a CSR the agent builds is one the gateway\'s parser accepts, asking for exactly its SPIFFE ID', () => {
    const key = newKeyPair();
    const parsed = parseCsr(buildCsr(key.privateKey, VM));
    assert.deepEqual(parsed.requestedUris, [VM]);
    assert.equal(parsed.keyType, 'ec');
    assert.ok(parsed.spkiDer.equals(key.spkiDer));
    assert.throws(() => buildCsr(createPrivateKey(key.privateKeyPem), 'not-a-spiffe-id'));
  });
});
