import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CausewayError, FileStore } from '../../../../registry/index.js';
import { CertificateAuthority, encodeBundle } from '../../../../federation/index.js';
import { TokenIssuer } from '../../../../federation/tokens/index.js';
import { createPeeringToken, parsePeeringToken, type CreatedToken } from '../../../../federation/peering/index.js';
import { makeTempDir } from '../../../helpers/paths.js';

const NOW = Date.UTC(2030, 0, 1);

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof CausewayError, String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('TokenIssuer', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let bundle: string;
  const stores: FileStore[] = [];

  const newIssuer = (dir: string): TokenIssuer => {
    const store = new FileStore(dir);
    stores.push(store);
    return new TokenIssuer({ store });
  };
  const mint = (issuer: TokenIssuer, ttlSeconds = 600, now = NOW): Promise<CreatedToken> =>
    issuer.issue(() => createPeeringToken({ cluster: 'cluster-b', trustDomain: 'b.test', federationAddress: '127.0.0.1:15012', bundle, ttlSeconds, now }), {}, now);

  before(async () => {
    tmp = await makeTempDir('issuer');
    const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'b.test' });
    bundle = encodeBundle(ca.bundle());
  });

  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await tmp?.remove();
  });

  it('redeems a token once, persisting the redemption, and never stores the secret', async () => {
    const dir = path.join(tmp.dir, 'once');
    const issuer = newIssuer(dir);
    const token = await mint(issuer, 600);
    const file = path.join(dir, 'peering-tokens.json');
    const stored = await readFile(file, 'utf8');
    assert.equal(stored.includes(token.payload.secret), false, 'the secret is on disk');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const { id, secret, payloadDigest } = parsePeeringToken(token.text, NOW);

    const used = await issuer.redeem(id, secret, payloadDigest, NOW + 1000, 'cluster-a');
    assert.equal(used.usedAt, NOW + 1000);
    await rejects(issuer.redeem(id, secret, payloadDigest, NOW + 2000, 'cluster-c'), 'CW_TOKEN_USED');
    // A restarted issuer (same store) still knows the token was used.
    await rejects(newIssuer(dir).redeem(id, secret, payloadDigest, NOW + 3000, 'cluster-c'), 'CW_TOKEN_USED');
  });

  it('refuses unknown ids, wrong secrets, digest mismatches and expired tokens, persisting nothing', async () => {
    const dir = path.join(tmp.dir, 'bad');
    const issuer = newIssuer(dir);
    const token = await mint(issuer, 60);
    const { id, secret, payloadDigest } = parsePeeringToken(token.text, NOW);
    const file = path.join(dir, 'peering-tokens.json');
    const before = await readFile(file, 'utf8');
    const otherSecret = Buffer.alloc(32, 7).toString('base64url');

    await rejects(issuer.redeem('0'.repeat(32), secret, payloadDigest, NOW, 'cluster-a'), 'CW_TOKEN_UNKNOWN');
    await rejects(issuer.redeem(id, otherSecret, payloadDigest, NOW, 'cluster-a'), 'CW_TOKEN_UNKNOWN');
    await rejects(issuer.redeem(id, secret, 'f'.repeat(64), NOW, 'cluster-a'), 'CW_TOKEN_TAMPERED');
    await rejects(issuer.redeem(id, secret, payloadDigest, NOW + 61_000, 'cluster-a'), 'CW_TOKEN_EXPIRED');
    await rejects(issuer.check(id, secret, payloadDigest, NOW + 61_000), 'CW_TOKEN_EXPIRED');
    assert.equal(await readFile(file, 'utf8'), before);
    // None of that burned the token.
    assert.equal((await issuer.redeem(id, secret, payloadDigest, NOW + 1000, 'cluster-a')).usedBy, 'cluster-a');
  });

  it('prunes tokens an hour after they expire', async () => {
    const issuer = newIssuer(path.join(tmp.dir, 'prune'));
    const old = await mint(issuer, 60, NOW);
    await mint(issuer, 60, NOW + 30 * 60_000);
    assert.equal((await issuer.list()).length, 2);
    const fresh = await mint(issuer, 60, NOW + 2 * 3600_000);
    assert.deepEqual((await issuer.list()).map((t) => t.id), [fresh.payload.id]);
    const { id, secret, payloadDigest } = parsePeeringToken(old.text, NOW);
    await rejects(issuer.redeem(id, secret, payloadDigest, NOW + 2 * 3600_000, 'cluster-a'), 'CW_TOKEN_UNKNOWN');
  });

  it('reports a corrupt token file as CW_STORE_CORRUPT', async () => {
    const dir = path.join(tmp.dir, 'corrupt');
    const issuer = newIssuer(dir);
    await mint(issuer);
    await writeFile(path.join(dir, 'peering-tokens.json'), JSON.stringify({ version: 1, tokens: [{ id: 'x' }] }));
    await rejects(newIssuer(dir).list(), 'CW_STORE_CORRUPT');
  });
});
