import assert from 'node:assert/strict';
import path from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority, MtlsServer, SvidRotator, TrustStore, type PeerIdentity } from '../../../../federation/index.js';
import { makeTempDir } from '../../../helpers/paths.js';
import { buildCert } from '../../../helpers/certs.js';

interface Attempt {
  outcome: 'accepted' | 'refused';
  serverSpiffeId?: string;
}

describe('MtlsServer', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let caA: CertificateAuthority;
  let caB: CertificateAuthority;
  let svidA: SvidRotator;
  let trust: TrustStore;
  let server: MtlsServer;
  let port = 0;
  const accepted: Array<PeerIdentity | undefined> = [];

  before(async () => {
    tmp = await makeTempDir('mtls');
    caA = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'a'), trustDomain: 'a.test' });
    caB = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'b'), trustDomain: 'b.test' });
    trust = new TrustStore();
    trust.set(caA.bundle());
    trust.set(caB.bundle());
    svidA = new SvidRotator({ ca: caA, spiffeId: 'spiffe://a.test/gateway/server', ttlSeconds: 3600 });
    server = new MtlsServer({
      svid: svidA, trust, alpn: ['h2'],
      onConnection: (socket, peer) => {
        accepted.push(peer);
        socket.on('data', (d) => socket.write(d));
      },
    });
    port = (await server.listen('127.0.0.1', 0)).port;
  });

  after(async () => {
    await server.close(100);
    svidA.close();
    await tmp.remove();
  });

  /** Connects, sends a ping, and reports whether the server echoed it (accepted) or cut us off. */
  function attempt(options: { cert?: string; key?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3'; alpn?: string[] }, keepOpen = false): Promise<Attempt & { socket?: TLSSocket }> {
    return new Promise((resolve) => {
      const socket = connect({
        host: '127.0.0.1', port, ca: trust.allRootsPem(), cert: options.cert, key: options.key,
        ALPNProtocols: options.alpn ?? ['h2'], maxVersion: options.maxVersion ?? 'TLSv1.3', checkServerIdentity: () => undefined,
      });
      let done = false;
      const finish = (result: Attempt): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (keepOpen && result.outcome === 'accepted') resolve({ ...result, socket });
        else {
          socket.destroy();
          resolve(result);
        }
      };
      const timer = setTimeout(() => finish({ outcome: 'refused' }), 5000);
      socket.on('secureConnect', () => socket.write('ping'));
      socket.on('data', () => finish({ outcome: 'accepted', serverSpiffeId: (socket.getPeerCertificate().subjectaltname ?? '').replace('URI:', '') }));
      socket.on('error', () => finish({ outcome: 'refused' }));
      socket.on('close', () => finish({ outcome: 'refused' }));
    });
  }

  it('accepts a client of a held trust domain and reports its verified identity', async () => {
    const client = caB.issueKeyAndSvid('spiffe://b.test/gateway/gw-b', 600);
    const result = await attempt({ cert: client.certChainPem, key: client.keyPem });
    assert.equal(result.outcome, 'accepted');
    assert.equal(accepted.at(-1)?.spiffeId, 'spiffe://b.test/gateway/gw-b');
    const record = server.recentConnections().at(-1);
    assert.equal(record?.protocol, 'TLSv1.3');
    assert.equal(record?.alpn, 'h2');
  });

  it('refuses no certificate, an unknown domain, a self-signed leaf, an expired leaf, TLS 1.2 and a wrong ALPN', async () => {
    const rogueDir = await makeTempDir('rogue');
    try {
      const rogue = (await CertificateAuthority.loadOrCreate({ dir: rogueDir.dir, trustDomain: 'rogue.test' })).issueKeyAndSvid('spiffe://rogue.test/x', 600);
      const selfSigned = buildCert({ uris: ['spiffe://b.test/gateway/gw-b'] });
      const past = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'b'), trustDomain: 'b.test', now: () => Date.now() - 86400_000 });
      const expired = past.issueKeyAndSvid('spiffe://b.test/gateway/gw-b', 600);
      const good = caB.issueKeyAndSvid('spiffe://b.test/gateway/gw-b', 600);
      const refusalsBefore = server.refusals();
      const cases: Array<[string, Parameters<typeof attempt>[0]]> = [
        ['no certificate', {}],
        ['unknown trust domain', { cert: rogue.certChainPem, key: rogue.keyPem }],
        ['self-signed', { cert: selfSigned.certPem, key: selfSigned.keyPem }],
        ['expired', { cert: expired.certChainPem, key: expired.keyPem }],
        ['TLS 1.2', { cert: good.certChainPem, key: good.keyPem, maxVersion: 'TLSv1.2' }],
        ['ALPN http/1.1', { cert: good.certChainPem, key: good.keyPem, alpn: ['http/1.1'] }],
        // allowNoAlpn is off: a client that offers no ALPN at all is refused too.
        ['no ALPN', { cert: good.certChainPem, key: good.keyPem, alpn: [] }],
      ];
      for (const [name, options] of cases) assert.equal((await attempt(options)).outcome, 'refused', name);
      assert.ok(server.refusals() >= refusalsBefore + cases.length - 1);
    } finally {
      await rogueDir.remove();
    }
  });

  it('stops trusting a removed trust domain for the next connection, without a restart', async () => {
    const client = caB.issueKeyAndSvid('spiffe://b.test/gateway/gw-b', 600);
    const open = await attempt({ cert: client.certChainPem, key: client.keyPem }, true);
    assert.equal(open.outcome, 'accepted');
    const cut = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the removed domain\'s connection stayed open')), 10_000);
      open.socket?.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    trust.remove('b.test');
    // The live connection of the removed domain is closed at once, not left running.
    await cut;
    try {
      assert.equal((await attempt({ cert: client.certChainPem, key: client.keyPem })).outcome, 'refused');
    } finally {
      open.socket?.destroy();
      trust.set(caB.bundle());
    }
    assert.equal((await attempt({ cert: client.certChainPem, key: client.keyPem })).outcome, 'accepted');
  });

  it('keeps live connections when a domain only gains a root (a CA rotation)', async () => {
    const client = caB.issueKeyAndSvid('spiffe://b.test/gateway/gw-b', 600);
    const open = await attempt({ cert: client.certChainPem, key: client.keyPem }, true);
    const socket = open.socket!;
    const rotated = { ...caB.bundle(), sequence: caB.bundle().sequence + 1, rootsPem: [...caB.bundle().rootsPem, buildCert({ ca: true, uris: ['spiffe://b.test'] }).certPem] };
    trust.set(rotated);
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.once('data', (d) => resolve(d.toString()));
      socket.once('close', () => reject(new Error('live connection dropped by a bundle that still holds its root')));
      socket.write('still trusted');
    });
    assert.equal(echoed, 'still trusted');
    socket.destroy();
  });

  it('rotates its certificate: a live connection stays up, a new one sees the new certificate', async () => {
    const client = caB.issueKeyAndSvid('spiffe://b.test/gateway/gw-b', 600);
    const open = await attempt({ cert: client.certChainPem, key: client.keyPem }, true);
    const socket = open.socket!;
    const before = socket.getPeerCertificate().fingerprint256;
    svidA.rotateNow();
    const echoed = await new Promise<string>((resolve, reject) => {
      socket.once('data', (d) => resolve(d.toString()));
      socket.once('close', () => reject(new Error('live connection dropped by rotation')));
      socket.write('still here');
    });
    assert.equal(echoed, 'still here');
    socket.destroy();
    const fresh = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, ca: trust.allRootsPem(), cert: client.certChainPem, key: client.keyPem, ALPNProtocols: ['h2'], checkServerIdentity: () => undefined }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.destroy();
      });
    });
    assert.notEqual(fresh, before);
  });
});
