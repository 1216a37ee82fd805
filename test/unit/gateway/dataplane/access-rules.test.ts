import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerIdentity } from '../../../../federation/index.js';
import { authorize, type AccessRule } from '../../../../gateway/dataplane/access-rules.js';

const LOCAL = 'b.test';
const gwA: PeerIdentity = { spiffeId: 'spiffe://a.test/gateway/gw-a', trustDomain: 'a.test', fingerprint: 'aa' };
const gwB2: PeerIdentity = { spiffeId: 'spiffe://b.test/gateway/gw-b2', trustDomain: 'b.test', fingerprint: 'bb' };
const client = 'spiffe://a.test/ns/demo/sa/client';

describe('authorize', () => {
  it('allows callers of the local trust domain without any rule, identified or not', () => {
    assert.equal(authorize({ spiffeId: 'spiffe://b.test/ns/x/sa/y', viaGateway: gwB2 }, 'echo.demo', LOCAL, []).allowed, true);
    assert.equal(authorize({ viaGateway: gwB2 }, 'echo.demo', LOCAL, []).allowed, true);
  });

  it('denies cross-trust-domain callers when no rule allows them, saying why', () => {
    const decision = authorize({ spiffeId: client, viaGateway: gwA }, 'echo.demo', LOCAL, []);
    assert.equal(decision.allowed, false);
    assert.match(decision.reason, /no access rule allows spiffe:\/\/a\.test\/ns\/demo\/sa\/client .*echo\.demo/);
  });

  it('allows a cross-trust-domain caller matched by an exact or a wildcard pattern, for that service only', () => {
    const exact: AccessRule[] = [{ to: 'echo.demo', from: [client] }];
    const wildcard: AccessRule[] = [{ to: 'echo.demo', from: ['spiffe://a.test/ns/demo/*'] }];
    const everything: AccessRule[] = [{ to: '*', from: ['spiffe://a.test/*'] }];
    assert.equal(authorize({ spiffeId: client, viaGateway: gwA }, 'echo.demo', LOCAL, exact).allowed, true);
    assert.equal(authorize({ spiffeId: client, viaGateway: gwA }, 'echo.demo', LOCAL, wildcard).allowed, true);
    assert.equal(authorize({ spiffeId: client, viaGateway: gwA }, 'pay.prod', LOCAL, everything).allowed, true);
    assert.equal(authorize({ spiffeId: client, viaGateway: gwA }, 'pay.prod', LOCAL, wildcard).allowed, false);
    assert.equal(authorize({ spiffeId: 'spiffe://a.test/ns/other/sa/x', viaGateway: gwA }, 'echo.demo', LOCAL, wildcard).allowed, false);
  });

  it('treats an anonymous caller through a foreign gateway as cross-domain, admitted only by "anonymous"', () => {
    const patterns: AccessRule[] = [{ to: 'echo.demo', from: ['spiffe://a.test/*', gwA.spiffeId] }];
    assert.equal(authorize({ viaGateway: gwA }, 'echo.demo', LOCAL, patterns).allowed, false);
    assert.equal(authorize({ viaGateway: gwA }, 'echo.demo', LOCAL, [{ to: 'echo.demo', from: ['anonymous'] }]).allowed, true);
    // ...and "anonymous" does not admit an identified caller.
    assert.equal(authorize({ spiffeId: client, viaGateway: gwA }, 'echo.demo', LOCAL, [{ to: 'echo.demo', from: ['anonymous'] }]).allowed, false);
  });

  it('judges an asserted identity by its own trust domain and refuses a malformed one', () => {
    // Whatever gateway carried it, a local-domain identity is local (the east-west server has
    // already refused identities outside the gateway's own domain).
    assert.equal(authorize({ spiffeId: 'spiffe://a.test/ns/demo/sa/client', viaGateway: gwB2 }, 'echo.demo', LOCAL, []).allowed, false);
    const bad = authorize({ spiffeId: 'not-a-spiffe-id', viaGateway: gwB2 }, 'echo.demo', LOCAL, [{ to: '*', from: ['anonymous'] }]);
    assert.equal(bad.allowed, false);
    assert.match(bad.reason, /not a SPIFFE ID/);
  });

  it('ignores a malformed pattern instead of matching everything', () => {
    assert.equal(authorize({ spiffeId: client, viaGateway: gwA }, 'echo.demo', LOCAL, [{ to: 'echo.demo', from: ['spiffe://', '*'] }]).allowed, false);
  });
});
