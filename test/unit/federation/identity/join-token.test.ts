import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError, type ErrorCode } from '../../../../registry/index.js';
import { CertificateAuthority, createJoinToken, encodeBundle, formatTokenText, grantProblem, parseJoinToken } from '../../../../federation/index.js';
import { makeTempDir } from '../../../helpers/paths.js';

const NOW = Date.UTC(2030, 0, 1);

describe('join tokens', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let bundle: string;
  const mint = (identity = 'spiffe://a.test/ns/web/sa/vm-1', ttlSeconds = 600): ReturnType<typeof createJoinToken> =>
    createJoinToken({ trustDomain: 'a.test', address: '127.0.0.1:15017', bundle, identity, ttlSeconds, now: NOW });

  before(async () => {
    tmp = await makeTempDir('join-token');
    const ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test' });
    bundle = encodeBundle(ca.bundle());
    ca.close();
  });
  after(() => tmp.remove());

  it('round-trips and carries what the holder needs: address, bundle, grant, expiry', () => {
    const token = mint();
    assert.match(token.text, /^cwjt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const parsed = parseJoinToken(token.text, NOW + 1000);
    assert.equal(parsed.identity, 'spiffe://a.test/ns/web/sa/vm-1');
    assert.equal(parsed.address, '127.0.0.1:15017');
    assert.equal(parsed.exp - parsed.iat, 600);
    assert.equal(parsed.payloadDigest, token.minted.payloadDigest);
    assert.equal(token.minted.secretHash.includes(token.payload.secret), false);
  });

  it('refuses malformed, tampered and expired tokens, naming the problem', () => {
    const token = mint();
    const [, payload, mac] = token.text.split('.') as [string, string, string];
    const refused = (text: string, code: ErrorCode, reason: RegExp): void => {
      assert.throws(() => parseJoinToken(text, NOW), (err) => isCausewayError(err, code) && reason.test(err.message), text.slice(0, 40));
    };
    refused(`cwpt1.${payload}.${mac}`, 'CW_TOKEN_MALFORMED', /does not start with "cwjt1\."/);
    refused(`cwjt1.${payload}`, 'CW_TOKEN_MALFORMED', /2 dot-separated parts/);
    refused(`cwjt1.${payload}.${mac.slice(2)}AA`, 'CW_TOKEN_TAMPERED', /MAC mismatch/);
    const edited = Buffer.from(JSON.stringify({ ...token.payload, identity: 'spiffe://a.test/ns/admin/sa/root' }));
    refused(`cwjt1.${edited.toString('base64url')}.${mac}`, 'CW_TOKEN_TAMPERED', /MAC mismatch/);
    const foreign = Buffer.from(JSON.stringify({ ...token.payload, identity: 'spiffe://b.test/ns/web/sa/x' }));
    refused(formatTokenText('cwjt1', foreign, token.payload.secret), 'CW_TOKEN_MALFORMED', /field "identity" spiffe:\/\/b\.test\/ns\/web\/sa\/x is outside trust domain a\.test/);
    assert.throws(() => parseJoinToken(token.text, NOW + 601_000), (err) => isCausewayError(err, 'CW_TOKEN_EXPIRED') && /expired at/.test(err.message));
  });

  it('grants exact workload IDs or prefix patterns in the trust domain, never gateways', () => {
    assert.equal(grantProblem('spiffe://a.test/ns/web/sa/vm-1', 'a.test'), undefined);
    assert.equal(grantProblem('spiffe://a.test/ns/web/*', 'a.test'), undefined);
    assert.match(grantProblem('spiffe://b.test/ns/web/sa/x', 'a.test') ?? '', /outside trust domain a\.test/);
    assert.match(grantProblem('spiffe://a.test', 'a.test') ?? '', /names no workload/);
    assert.match(grantProblem('spiffe://a.test/gateway/gw-a', 'a.test') ?? '', /gateway identities are not granted/);
    assert.match(grantProblem('spiffe://a.test/ns/../x', 'a.test') ?? '', /"\." and "\.\." path segments/);
    assert.throws(() => mint('spiffe://a.test/gateway/gw-a'), (err) => isCausewayError(err, 'CW_USAGE'));
    assert.throws(() => mint(undefined, 0), (err) => isCausewayError(err, 'CW_USAGE'));
  });
});
