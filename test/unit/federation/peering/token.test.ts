import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CausewayError } from '../../../../registry/index.js';
import { CertificateAuthority, encodeBundle } from '../../../../federation/index.js';
import { createPeeringToken, formatToken, parsePeeringToken, type CreatedToken } from '../../../../federation/peering/index.js';
import { makeTempDir } from '../../../helpers/paths.js';

const NOW = Date.UTC(2030, 0, 1);

function rejects(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CausewayError, `not a CausewayError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

/** Re-encodes an edited payload with a correct MAC, so only the field checks can catch it. */
function remint(token: CreatedToken, edit: (payload: Record<string, unknown>) => void): string {
  const payload = JSON.parse(JSON.stringify(token.payload)) as Record<string, unknown>;
  edit(payload);
  return formatToken(Buffer.from(JSON.stringify(payload)), token.payload.secret);
}

describe('peering tokens', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let bundle: string;
  let token: CreatedToken;

  before(async () => {
    tmp = await makeTempDir('token');
    const ca = await CertificateAuthority.loadOrCreate({ dir: tmp.dir, trustDomain: 'b.test' });
    bundle = encodeBundle(ca.bundle());
    token = createPeeringToken({ cluster: 'cluster-b', trustDomain: 'b.test', federationAddress: '127.0.0.1:15012', bundle, ttlSeconds: 600, now: NOW });
  });

  after(async () => {
    await tmp?.remove();
  });

  it('round-trips every field and the payload digest', () => {
    assert.match(token.text, /^cwpt1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const parsed = parsePeeringToken(token.text, NOW + 1000);
    assert.deepEqual({ ...parsed, payloadDigest: undefined }, { ...token.payload, payloadDigest: undefined });
    assert.equal(parsed.payloadDigest, token.minted.payloadDigest);
    assert.equal(parsed.exp - parsed.iat, 600);
    assert.match(parsed.id, /^[0-9a-f]{32}$/);
    assert.equal(Buffer.from(parsed.secret, 'base64url').length, 32);
    // Two tokens never share an id or a secret.
    const other = createPeeringToken({ cluster: 'cluster-b', trustDomain: 'b.test', federationAddress: '127.0.0.1:15012', bundle, ttlSeconds: 600, now: NOW });
    assert.notEqual(other.payload.id, token.payload.id);
    assert.notEqual(other.payload.secret, token.payload.secret);
  });

  it('refuses to mint a token it could not parse back', () => {
    rejects(() => createPeeringToken({ cluster: 'cluster-b', trustDomain: 'b.test', federationAddress: 'gw.example:15012', bundle, ttlSeconds: 60, now: NOW }),
      'CW_USAGE', /federationAddress/);
    rejects(() => createPeeringToken({ cluster: 'cluster-b', trustDomain: 'b.test', federationAddress: '127.0.0.1:1', bundle, ttlSeconds: 0, now: NOW }),
      'CW_USAGE', /ttlSeconds/);
  });

  it('rejects texts that are not tokens as CW_TOKEN_MALFORMED', () => {
    const [, payload, mac] = token.text.split('.');
    const cases: Array<[string, RegExp]> = [
      ['', /does not start with "cwpt1\."/],
      ['cwpt2.' + payload + '.' + mac, /does not start with "cwpt1\."/],
      [`cwpt1.${payload}`, /2 dot-separated parts/],
      [`cwpt1.${payload}.${mac}.x`, /4 dot-separated parts/],
      [`cwpt1.${payload}!.${mac}`, /payload is not base64url/],
      [`cwpt1.${payload}.`, /mac is not base64url/],
      [`cwpt1.${Buffer.from('{not json').toString('base64url')}.${mac}`, /payload is not JSON/],
      [`cwpt1.${Buffer.from('[1,2]').toString('base64url')}.${mac}`, /not a JSON object/],
    ];
    for (const [text, message] of cases) rejects(() => parsePeeringToken(text, NOW), 'CW_TOKEN_MALFORMED', message);
  });

  it('names each missing or ill-typed payload field', () => {
    const cases: Array<[(p: Record<string, unknown>) => void, RegExp]> = [
      [(p) => { p.v = 2; }, /field "v" is 2/],
      [(p) => { delete p.id; }, /field "id" is missing/],
      [(p) => { p.id = 'xyz'; }, /field "id" must be 32 lower-case hex/],
      [(p) => { p.secret = 'c2hvcnQ'; }, /field "secret" must be 32 bytes/],
      [(p) => { p.cluster = 42; }, /field "cluster" must be a string, not number/],
      [(p) => { p.cluster = 'Not_A_Label'; }, /field "cluster" "Not_A_Label" is not a DNS-1123 label/],
      [(p) => { p.trustDomain = 'spiffe://b.test'; }, /field "trustDomain" .* is not a valid trust domain/],
      [(p) => { delete p.federationAddress; }, /field "federationAddress" is missing/],
      [(p) => { p.federationAddress = 'gw.example.com:15012'; }, /field "federationAddress" "gw\.example\.com" is not an IP address/],
      [(p) => { p.federationAddress = '127.0.0.1:70000'; }, /field "federationAddress" port 70000 is out of range/],
      [(p) => { p.bundle = '{"keys": []}'; }, /field "bundle" is not a SPIFFE trust bundle/],
      [(p) => { p.iat = 'yesterday'; }, /field "iat" must be a non-negative integer/],
      [(p) => { delete p.exp; }, /field "exp" is missing/],
      [(p) => { p.exp = p.iat; }, /field "exp" must be after iat/],
      [(p) => { p.admin = true; }, /field "admin" is unknown/],
    ];
    for (const [edit, message] of cases) rejects(() => parsePeeringToken(remint(token, edit), NOW), 'CW_TOKEN_MALFORMED', message);
  });

  it('detects an edited payload or MAC as CW_TOKEN_TAMPERED', () => {
    const [prefix, payload, mac] = token.text.split('.') as [string, string, string];
    const bytes = Buffer.from(payload, 'base64url');
    // Flip one byte inside the cluster name: still valid JSON and a valid label, wrong MAC.
    const at = bytes.indexOf('cluster-b') + 'cluster-'.length;
    bytes[at] = 'c'.charCodeAt(0);
    rejects(() => parsePeeringToken(`${prefix}.${bytes.toString('base64url')}.${mac}`, NOW), 'CW_TOKEN_TAMPERED', /MAC mismatch/);
    const macBytes = Buffer.from(mac, 'base64url');
    macBytes[0] = macBytes[0]! ^ 0x01;
    rejects(() => parsePeeringToken(`${prefix}.${payload}.${macBytes.toString('base64url')}`, NOW), 'CW_TOKEN_TAMPERED');
  });

  it('refuses an expired token, and accepts it up to its expiry', () => {
    const expMs = token.payload.exp * 1000;
    assert.equal(parsePeeringToken(token.text, expMs - 1000).id, token.payload.id);
    rejects(() => parsePeeringToken(token.text, expMs), 'CW_TOKEN_EXPIRED', /expired at 2030-01-01T00:10:00\.000Z/);
  });
});
