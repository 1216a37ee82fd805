import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { CertificateAuthority, encodeBundle, type Svid } from '../../../../federation/index.js';
import {
  ERROR_CODE_METADATA, federationProto, parsePeeringToken, type FederationClient, type WireLinkMessage, type WireRedeemRequest,
  type WireRedeemResponse, type WireServiceRecord,
} from '../../../../federation/peering/index.js';
import { selfSignedSvid } from '../../../helpers/certs.js';
import { h2Probe, type ProbeCredentials } from '../../../helpers/h2-probe.js';
import { makeTempDir } from '../../../helpers/paths.js';
import { waitFor } from '../../../helpers/wait-for.js';
import { locality, startSide, stopSide, type Side } from './sides.js';

const LINK_REQUEST = { ':method': 'POST', ':path': '/causeway.federation.v1.Federation/Link', 'content-type': 'application/grpc', te: 'trailers' };
const X_GATEWAY = 'spiffe://x.test/gateway/gw-x';

/** A hand-driven Link stream, for sending what a well-behaved PeerManager never would. */
interface RawLink {
  received: WireLinkMessage[];
  send(message: WireLinkMessage): void;
  next(what: string, match: (m: WireLinkMessage) => boolean): Promise<WireLinkMessage>;
  status: Promise<grpc.ServiceError | undefined>;
  cancel(): void;
}

function wireRecord(name: string, overrides: Partial<WireServiceRecord> = {}): WireServiceRecord {
  return {
    origin: 'cluster-x', name, namespace: 'prod', version: { origin: 'cluster-x', epoch: 1_700_000_000_000, seq: 1 },
    deleted: false, exported: true, ports: [{ name: 'http', port: 8080, protocol: 'http' }],
    endpoints: [{
      address: '10.9.0.1', ports: { http: 8080 }, locality: locality('cluster-x'), kind: 'vm', identity: `spiffe://x.test/ns/prod/sa/${name}`,
      health: 'healthy', weight: 1, labels: {},
    }],
    ...overrides,
  };
}

describe('federation listener: who may connect, Redeem and Link from a raw client', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let b: Side;
  let xCa: CertificateAuthority;
  let xSvid: Svid;
  const clients: FederationClient[] = [];

  const client = (svid?: { certChainPem: string; keyPem: string }): FederationClient => {
    const credentials = grpc.credentials.createSsl(
      Buffer.from(b.ca.bundle().rootsPem.join('\n')),
      svid === undefined ? null : Buffer.from(svid.keyPem),
      svid === undefined ? null : Buffer.from(svid.certChainPem),
      { checkServerIdentity: () => undefined },
    );
    const c = new (federationProto().Client)(`ipv4:${b.federation}`, credentials, {
      'grpc.ssl_target_name_override': 'b.test', 'grpc.use_local_subchannel_pool': 1,
    });
    clients.push(c);
    return c;
  };
  const redeem = (request: WireRedeemRequest, c = client()): Promise<WireRedeemResponse> =>
    new Promise((resolve, reject) => {
      c.Redeem(request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, response) => (err ? reject(err) : resolve(response!)));
    });
  const refusedWith = async (promise: Promise<unknown>, status: grpc.status, code: string): Promise<void> => {
    await assert.rejects(promise, (err: grpc.ServiceError) => {
      assert.equal(err.code, status, err.message);
      assert.equal(err.metadata.get(ERROR_CODE_METADATA)[0], code);
      return true;
    });
  };
  const openLink = (svid: { certChainPem: string; keyPem: string }): RawLink => {
    const call = client(svid).Link();
    const received: WireLinkMessage[] = [];
    call.on('data', (m: WireLinkMessage) => received.push(m));
    const status = new Promise<grpc.ServiceError | undefined>((resolve) => {
      call.on('error', (err: grpc.ServiceError) => resolve(err));
      call.on('end', () => resolve(undefined));
    });
    return {
      received,
      send: (m) => call.write(m),
      next: (what, match) => waitFor(what, () => received.find(match)),
      status,
      cancel: () => call.cancel(),
    };
  };
  const hello = (gatewayId = X_GATEWAY): WireLinkMessage => ({
    hello: { cluster: 'cluster-x', trustDomain: 'x.test', gatewayId, eastWestAddress: '127.0.0.1:25443', locality: locality('cluster-x'), protocolVersion: 1 },
  });

  before(async () => {
    tmp = await makeTempDir('listener');
    b = await startSide(tmp.dir, 'cluster-b', 'b.test');
    xCa = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'x-ca'), trustDomain: 'x.test' });
    xSvid = xCa.issueKeyAndSvid(X_GATEWAY, 3600);
  });

  after(async () => {
    for (const c of clients) c.close();
    await stopSide(b);
    await tmp?.remove();
  });

  it('refuses certificates from an unknown trust domain, self-signed or expired; answers valid and anonymous callers', async () => {
    const caPem = b.ca.bundle().rootsPem.join('\n');
    const expiredCa = await CertificateAuthority.loadOrCreate({
      dir: path.join(b.dir, 'ca'), trustDomain: 'b.test', now: () => Date.now() - 2 * 86400_000,
    });
    const expired = expiredCa.issueKeyAndSvid('spiffe://b.test/gateway/old', 3600);
    const selfSigned = selfSignedSvid('spiffe://b.test/gateway/gw-cluster-b');
    const refused: Record<string, ProbeCredentials> = {
      'unknown trust domain': { caPem, certPem: xSvid.certChainPem, keyPem: xSvid.keyPem },
      'self-signed': { caPem, certPem: selfSigned.certPem, keyPem: selfSigned.keyPem },
      expired: { caPem, certPem: expired.certChainPem, keyPem: expired.keyPem },
    };
    for (const [name, creds] of Object.entries(refused)) {
      const result = await h2Probe(b.federation, creds, LINK_REQUEST);
      assert.equal(result.outcome, 'refused', `the federation listener accepted a ${name} certificate`);
    }
    // Positive controls: a valid certificate of a held domain, and no certificate at all, get
    // an answer — Link itself then refuses both, since neither is a peer.
    const valid = b.ca.issueKeyAndSvid('spiffe://b.test/gateway/probe', 3600);
    for (const creds of [{ caPem, certPem: valid.certChainPem, keyPem: valid.keyPem }, { caPem }]) {
      const result = await h2Probe(b.federation, creds, LINK_REQUEST);
      assert.equal(result.outcome, 'answered');
      assert.equal(result.outcome === 'answered' && result.headers['grpc-status'], String(grpc.status.UNAUTHENTICATED));
    }
  });

  it('Redeem refuses wrong secrets, unknown ids and edited payloads without persisting; then redeems once', async () => {
    const token = parsePeeringToken(await b.peers.createToken({ ttlSeconds: 300, peerName: 'x-peer' }), Date.now());
    const good: WireRedeemRequest = {
      tokenId: token.id, secret: token.secret, payloadDigest: token.payloadDigest,
      cluster: 'cluster-x', trustDomain: 'x.test', spiffeBundleJson: encodeBundle(xCa.bundle()), gatewayId: X_GATEWAY,
    };
    const attempts: Array<[Partial<WireRedeemRequest>, grpc.status, string]> = [
      [{ secret: Buffer.alloc(32, 1).toString('base64url') }, grpc.status.PERMISSION_DENIED, 'CW_TOKEN_UNKNOWN'],
      [{ tokenId: 'ab'.repeat(16) }, grpc.status.PERMISSION_DENIED, 'CW_TOKEN_UNKNOWN'],
      [{ payloadDigest: '0'.repeat(64) }, grpc.status.PERMISSION_DENIED, 'CW_TOKEN_TAMPERED'],
      [{ secret: '' }, grpc.status.INVALID_ARGUMENT, 'CW_TOKEN_MALFORMED'],
      [{ spiffeBundleJson: '{"keys":[]}' }, grpc.status.PERMISSION_DENIED, 'CW_PEER_REFUSED'],
      [{ gatewayId: 'spiffe://b.test/gateway/x' }, grpc.status.PERMISSION_DENIED, 'CW_PEER_REFUSED'],
      [{ cluster: 'cluster-b', trustDomain: 'b.test', gatewayId: 'spiffe://b.test/gateway/x' }, grpc.status.ALREADY_EXISTS, 'CW_PEER_EXISTS'],
    ];
    for (const [edit, status, code] of attempts) await refusedWith(redeem({ ...good, ...edit }), status, code);
    assert.equal(await b.store.load('peers'), undefined);
    assert.equal(b.trust.get('x.test'), undefined);

    const answer = await redeem(good);
    assert.deepEqual({ ...answer, spiffeBundleJson: undefined }, {
      // bootstrapProof: only bootstrap redemptions carry one.
      cluster: 'cluster-b', trustDomain: 'b.test', gatewayId: b.gatewayId, spiffeBundleJson: undefined, bootstrapProof: '',
    });
    assert.deepEqual(b.peers.list().map((p) => [p.name, p.cluster, p.role]), [['x-peer', 'cluster-x', 'acceptor']]);
    assert.ok(b.trust.get('x.test'));
    await refusedWith(redeem(good), grpc.status.FAILED_PRECONDITION, 'CW_TOKEN_USED');
  });

  it('refuses a Link whose Hello names another gateway, and a workload certificate', async () => {
    const link = openLink(xSvid);
    link.send(hello('spiffe://x.test/gateway/someone-else'));
    const status = await link.status;
    assert.equal(status?.code, grpc.status.PERMISSION_DENIED);
    assert.match(status?.details ?? '', /hello\.gatewayId: "spiffe:\/\/x\.test\/gateway\/someone-else" is not the authenticated/);

    const workload = openLink(xCa.issueKeyAndSvid('spiffe://x.test/ns/prod/sa/app', 3600));
    workload.send(hello());
    assert.equal((await workload.status)?.code, grpc.status.PERMISSION_DENIED);
    assert.deepEqual(b.catalog.gatewaysOf('cluster-x'), []);
  });

  it('NACKs an invalid Delta as a whole, listing every problem, and applies nothing', async () => {
    const link = openLink(xSvid);
    link.send(hello());
    await link.next('B\'s snapshot', (m) => m.msg === 'snapshot');
    await waitFor('x-peer connected', () => (b.peers.list()[0]?.state === 'connected' ? true : undefined));
    assert.equal(b.catalog.gatewaysOf('cluster-x')[0]?.eastWestAddress, '127.0.0.1:25443');

    const rejectedBefore = b.peers.list()[0]?.rejected ?? 0;
    const bad = wireRecord('bad', { endpoints: [{ ...wireRecord('bad').endpoints[0]!, address: 'bad.example', weight: 0 }] });
    const foreign = wireRecord('foreign', { origin: 'cluster-b', version: { origin: 'cluster-b', epoch: 1, seq: 9 } });
    link.send({ delta: { seq: 7, records: [wireRecord('ok'), bad, foreign] } });
    const nack = await link.next('ack of delta 7', (m) => m.msg === 'ack' && String(m.ack?.seq) === '7');
    const detail = nack.ack?.errorDetail ?? '';
    assert.match(detail, /records\[1\]\.endpoints\[0\]\.address/);
    assert.match(detail, /records\[1\]\.endpoints\[0\]\.weight/);
    assert.match(detail, /records\[2\]\.origin: "cluster-b" is not the sending peer's cluster "cluster-x"/);
    assert.deepEqual(b.catalog.recordsOf('cluster-x'), [], 'a NACKed delta changed the catalog');
    assert.equal(b.peers.list()[0]?.rejected, rejectedBefore + 1);

    link.send({ delta: { seq: 8, records: [wireRecord('ok')] } });
    const ack = await link.next('ack of delta 8', (m) => m.msg === 'ack' && String(m.ack?.seq) === '8');
    assert.equal(ack.ack?.errorDetail, '');
    assert.deepEqual(b.catalog.resolve('ok.prod')?.clusters.get('cluster-x')?.map((e) => e.address), ['10.9.0.1']);

    // A stale bundle is NACKed too, and the held one kept.
    const held = b.trust.get('x.test');
    link.send({ bundle: { trustDomain: 'x.test', spiffeBundleJson: encodeBundle({ ...xCa.bundle(), sequence: 0 }), seq: 9 } });
    const stale = await link.next('ack of bundle 9', (m) => m.msg === 'ack' && String(m.ack?.seq) === '9');
    assert.notEqual(stale.ack?.errorDetail, '');
    assert.deepEqual(b.trust.get('x.test'), held);
    link.cancel();
  });
});
