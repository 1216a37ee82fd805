import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallerClassifier } from '../../../../gateway/policy/classify.js';
import { decideAccess, type AccessScope, type AccessVerdict } from '../../../../gateway/policy/decide-access.js';
import type { PolicySet } from '../../../../gateway/policy/policy-set.js';
import { configAccessRules } from '../../../../gateway/policy/static-policies.js';
import { allow, deny, policySet, trafficClass } from './policy-builders.js';

const LOCAL = 'corp.example';
const SCOTT = 'spiffe://corp.example/ns/default/sa/scott';
const ALICE = 'spiffe://corp.example/ns/default/sa/alice';
const QUARANTINED = 'spiffe://corp.example/ns/quarantine/sa/old';
const BILLING = 'spiffe://partner.example/ns/eu/sa/billing';
const PARTNER = 'spiffe://partner.example/ns/eu/sa/other';
const DEV = 'spiffe://dev.example/ns/x/sa/y';
const OTHER = 'spiffe://other.example/ns/shop/sa/front';

/**
 * payments.prod is allow-listed (AccessPolicy allow rules name it); ledger.prod and web.shop
 * are not (web.shop only has a config access rule, which lists nothing); sandbox.dev is
 * allow-listed for the dev class alone.
 */
const rules = [
  ...configAccessRules([{ to: 'web.shop', from: ['spiffe://other.example/*'] }]),
  allow('AccessPolicy/scott', 0, [SCOTT], ['payments.prod']),
  allow('AccessPolicy/scott', 1, ['spiffe://partner.example/ns/*/sa/billing'], ['payments.prod'], { methods: ['GET'], paths: ['/v1/invoices'] }),
  deny('AccessPolicy/guard', 0, ['class:dev'], ['*.prod'], { methods: ['POST', 'DELETE'] }),
  deny('AccessPolicy/guard', 1, ['spiffe://corp.example/ns/*/sa/scott'], ['payments.prod'], { paths: ['/admin'] }),
  deny('AccessPolicy/guard', 2, ['anonymous'], ['*.prod']),
  deny('AccessPolicy/guard', 3, ['spiffe://corp.example/ns/quarantine/*'], ['*']),
  allow('AccessPolicy/open', 0, ['class:dev'], ['sandbox.dev']),
];
const SET = policySet({ accessRules: rules, classes: [trafficClass('dev', ['spiffe://dev.example'])] });

type Who = string | { anonymousVia: string };
const ANON_CORP: Who = { anonymousVia: LOCAL };
const ANON_PARTNER: Who = { anonymousVia: 'partner.example' };

function get(path: string): AccessScope {
  return { method: 'GET', path };
}

function decide(set: PolicySet, who: Who, service: string, scope: AccessScope): AccessVerdict {
  const classifier = new CallerClassifier();
  const caller = typeof who === 'string' ? classifier.caller(set, who) : classifier.caller(set, undefined, who.anonymousVia);
  return decideAccess(set, { caller, service, scope }, LOCAL);
}

/** What decided: `<policy>#<index> <action>`, `allow-listed` or `default`. */
function cited(verdict: AccessVerdict): string {
  if (verdict.rule !== undefined) return `${verdict.rule.policy}#${verdict.rule.index} ${verdict.rule.action}`;
  return /is allow-listed/.test(verdict.reason) ? 'allow-listed' : 'default';
}

// [caller, service, scope, allowed, what decided]
const TABLE: Array<[Who, string, AccessScope, boolean, string]> = [
  // exact ID on an allow-listed service; deny wins over the allow, on the normalised path
  [SCOTT, 'payments.prod', get('/v1/pay'), true, 'AccessPolicy/scott#0 allow'],
  [SCOTT, 'payments.prod', { method: 'POST', path: '/v1/pay' }, true, 'AccessPolicy/scott#0 allow'],
  [SCOTT, 'payments.prod', get('/admin'), false, 'AccessPolicy/guard#1 deny'],
  [SCOTT, 'payments.prod', get('/admin/users?x=1'), false, 'AccessPolicy/guard#1 deny'],
  [SCOTT, 'payments.prod', get('/public/../admin'), false, 'AccessPolicy/guard#1 deny'],
  [SCOTT, 'payments.prod', get('//admin'), false, 'AccessPolicy/guard#1 deny'],
  [SCOTT, 'payments.prod', get('/%61dmin'), false, 'AccessPolicy/guard#1 deny'],
  [SCOTT, 'payments.prod', get('/x%2F..%2Fadmin'), false, 'AccessPolicy/guard#1 deny'],
  [SCOTT, 'payments.prod', get('/admin;x=1'), false, 'AccessPolicy/guard#1 deny'],
  [SCOTT, 'payments.prod', get('/v1/..;/admin'), false, 'AccessPolicy/guard#1 deny'],
  [SCOTT, 'payments.prod', get('/administrator'), true, 'AccessPolicy/scott#0 allow'],
  [SCOTT, 'payments.prod', 'stream', true, 'AccessPolicy/scott#0 allow'],
  [SCOTT, 'payments.prod', 'tcp', false, 'AccessPolicy/guard#1 deny'],
  // the allow-listed service refuses a caller of its own trust domain that no rule names
  [ALICE, 'payments.prod', get('/v1/pay'), false, 'allow-listed'],
  [ALICE, 'payments.prod', 'stream', false, 'allow-listed'],
  // a pattern from a foreign trust domain, restricted to GET under /v1/invoices
  [BILLING, 'payments.prod', get('/v1/invoices'), true, 'AccessPolicy/scott#1 allow'],
  [BILLING, 'payments.prod', get('/v1/invoices/7'), true, 'AccessPolicy/scott#1 allow'],
  [BILLING, 'payments.prod', get('/v1/invoices/../refunds'), false, 'allow-listed'],
  [BILLING, 'payments.prod', get('/v1/invoicesX'), false, 'allow-listed'],
  [BILLING, 'payments.prod', get('/v1/invoices%2F7'), false, 'allow-listed'],
  [BILLING, 'payments.prod', get('/v1/invoices/..;/refunds'), false, 'allow-listed'],
  [BILLING, 'payments.prod', { method: 'POST', path: '/v1/invoices' }, false, 'allow-listed'],
  [BILLING, 'payments.prod', 'stream', true, 'AccessPolicy/scott#1 allow'],
  [BILLING, 'payments.prod', 'tcp', false, 'allow-listed'],
  [PARTNER, 'payments.prod', get('/v1/invoices'), false, 'allow-listed'],
  // a traffic class
  [DEV, 'payments.prod', get('/v1/pay'), false, 'allow-listed'],
  [DEV, 'payments.prod', { method: 'POST', path: '/v1/pay' }, false, 'AccessPolicy/guard#0 deny'],
  [DEV, 'ledger.prod', get('/'), false, 'default'],
  [DEV, 'ledger.prod', { method: 'DELETE', path: '/' }, false, 'AccessPolicy/guard#0 deny'],
  [DEV, 'ledger.prod', 'tcp', false, 'AccessPolicy/guard#0 deny'],
  [DEV, 'ledger.prod', 'stream', false, 'default'],
  [DEV, 'sandbox.dev', get('/'), true, 'AccessPolicy/open#0 allow'],
  [DEV, 'sandbox.dev', 'tcp', true, 'AccessPolicy/open#0 allow'],
  [ALICE, 'sandbox.dev', get('/'), false, 'allow-listed'],
  [SCOTT, 'sandbox.dev', 'tcp', false, 'allow-listed'],
  // anonymous callers: of the trust domain of the gateway they came through
  [ANON_CORP, 'payments.prod', get('/v1/pay'), false, 'AccessPolicy/guard#2 deny'],
  [ANON_CORP, 'ledger.prod', 'tcp', false, 'AccessPolicy/guard#2 deny'],
  [ANON_CORP, 'web.shop', get('/'), true, 'default'],
  [ANON_PARTNER, 'web.shop', get('/'), false, 'default'],
  // the default: the local trust domain in, the others out
  [ALICE, 'ledger.prod', get('/'), true, 'default'],
  [ALICE, 'ledger.prod', 'tcp', true, 'default'],
  [OTHER, 'ledger.prod', get('/'), false, 'default'],
  [PARTNER, 'web.shop', get('/'), false, 'default'],
  // a config access rule allows, and lists nothing: the local domain still gets in
  [OTHER, 'web.shop', get('/'), true, 'config access#0 allow'],
  [OTHER, 'web.shop', 'tcp', true, 'config access#0 allow'],
  [ALICE, 'web.shop', get('/'), true, 'default'],
  // a deny to every service
  [QUARANTINED, 'web.shop', get('/'), false, 'AccessPolicy/guard#3 deny'],
  [QUARANTINED, 'ledger.prod', 'stream', false, 'AccessPolicy/guard#3 deny'],
];

function label(who: Who): string {
  return typeof who === 'string' ? who : `anonymous via ${who.anonymousVia}`;
}

function scopeText(scope: AccessScope): string {
  return typeof scope === 'string' ? scope : `${scope.method} ${scope.path}`;
}

describe('decideAccess', () => {
  for (const [who, service, scope, allowed, decidedBy] of TABLE) {
    it(`${label(who)} → ${service} ${scopeText(scope)}: ${allowed ? 'allowed' : 'denied'} by ${decidedBy}`, () => {
      const verdict = decide(SET, who, service, scope);
      assert.equal(verdict.allowed, allowed, verdict.reason);
      assert.equal(cited(verdict), decidedBy, verdict.reason);
      if (verdict.rule !== undefined) {
        // The reason names the rule, as refusals and explain show it.
        assert.ok(verdict.reason.includes(`${verdict.rule.policy} rules[${verdict.rule.index}]`), verdict.reason);
      } else if (decidedBy === 'default') {
        assert.match(verdict.reason, allowed ? /allowed by default/ : /denied by default/);
      }
      if (decidedBy !== 'default' || !allowed) assert.ok(verdict.reason.includes(service), verdict.reason);
    });
  }

  it('gives the same verdict whatever the order of the rules (deny wins wherever it is)', () => {
    const reversed = policySet({ accessRules: [...rules].reverse(), classes: [...SET.classes.values()] });
    for (const [who, service, scope, allowed, decidedBy] of TABLE) {
      const verdict = decide(reversed, who, service, scope);
      assert.equal(verdict.allowed, allowed, `${label(who)} ${service} ${scopeText(scope)}: ${verdict.reason}`);
      assert.equal(cited(verdict), decidedBy, `${label(who)} ${service} ${scopeText(scope)}`);
    }
  });

  it('with no rules at all: the local trust domain (and anonymous callers through it) in, every other domain out', () => {
    const empty = policySet();
    assert.equal(decide(empty, ALICE, 'payments.prod', 'tcp').allowed, true);
    assert.equal(decide(empty, ANON_CORP, 'payments.prod', get('/')).allowed, true);
    assert.equal(decide(empty, BILLING, 'payments.prod', get('/')).allowed, false);
    assert.equal(decide(empty, ANON_PARTNER, 'payments.prod', get('/')).allowed, false);
  });

  it('covers services by exact name, *.<namespace> and *, and nothing else', () => {
    const set = policySet({ accessRules: [allow('AccessPolicy/ns', 0, [BILLING], ['*.shop'])] });
    assert.equal(decide(set, BILLING, 'web.shop', get('/')).allowed, true);
    assert.equal(decide(set, BILLING, 'cart.shop', get('/')).allowed, true);
    // *.shop names the namespace shop, not shop.eu nor a service called shop
    assert.equal(decide(set, BILLING, 'web.shop.eu', get('/')).allowed, false);
    assert.equal(decide(set, BILLING, 'shop.prod', get('/')).allowed, false);
    // and lists what it covers: a same-domain caller is refused there, admitted elsewhere
    assert.equal(cited(decide(set, ALICE, 'web.shop', get('/'))), 'allow-listed');
    assert.equal(cited(decide(set, ALICE, 'shop.prod', get('/'))), 'default');
  });

  it('says why an allow-listed service refused, with the method and path', () => {
    const verdict = decide(SET, ALICE, 'payments.prod', { method: 'PUT', path: '/v1/pay' });
    assert.equal(verdict.reason, `payments.prod is allow-listed and no allow rule matches ${ALICE} for PUT /v1/pay`);
  });
});

describe('CallerClassifier', () => {
  it('puts a caller in every class one of whose sources names it, and an anonymous one in none but an anonymous class', () => {
    const set = policySet({
      classes: [
        trafficClass('dev', ['spiffe://dev.example']),
        trafficClass('batch', ['spiffe://corp.example/ns/batch/*', 'spiffe://dev.example/ns/x/sa/y']),
        trafficClass('guests', ['anonymous']),
      ],
    });
    const classifier = new CallerClassifier();
    assert.deepEqual([...classifier.caller(set, DEV).classes].sort(), ['batch', 'dev']);
    assert.deepEqual([...classifier.caller(set, 'spiffe://corp.example/ns/batch/sa/job').classes], ['batch']);
    assert.deepEqual([...classifier.caller(set, ALICE).classes], []);
    assert.deepEqual([...classifier.caller(set, undefined, LOCAL).classes], ['guests']);
  });

  it('forgets what it cached when the policy set changes', () => {
    const classifier = new CallerClassifier();
    const before = policySet({ classes: [trafficClass('dev', ['spiffe://dev.example'])] });
    const after = policySet({ version: 2, classes: [trafficClass('dev', ['spiffe://other.example'])] });
    assert.deepEqual([...classifier.caller(before, DEV).classes], ['dev']);
    assert.deepEqual([...classifier.caller(after, DEV).classes], []);
    assert.deepEqual([...classifier.caller(after, OTHER).classes], ['dev']);
  });
});
