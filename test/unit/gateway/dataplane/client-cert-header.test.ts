import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientCertHeader, clientCertLine } from '../../../../gateway/dataplane/client-cert-header.js';
import { callHeaders, towardBackend, towardGateway } from '../../../../gateway/dataplane/h2/forward-stream.js';
import { isGatewayField } from '../../../../gateway/dataplane/headers.js';

const GW = 'spiffe://b.test/gateway/gw-b';
const CALLER = 'spiffe://a.test/ns/demo/sa/client';

describe('x-forwarded-client-cert (Envoy XFCC) toward backends', () => {
  it('writes one element, By then URI; SPIFFE IDs need no quoting', () => {
    assert.equal(clientCertHeader(GW, CALLER), `By=${GW};URI=${CALLER}`);
    assert.equal(clientCertHeader(undefined, CALLER), `URI=${CALLER}`);
    assert.equal(clientCertLine(GW, CALLER), `x-forwarded-client-cert: By=${GW};URI=${CALLER}\r\n`);
  });

  it('writes nothing for an anonymous caller', () => {
    assert.equal(clientCertHeader(GW, undefined), undefined);
    assert.equal(clientCertLine(GW, undefined), '');
    assert.deepEqual(towardBackend(GW, undefined), {});
    assert.deepEqual(towardGateway(undefined), {});
  });

  it('quotes a value holding , ; = or " as the grammar says (\\" inside quotes)', () => {
    assert.equal(clientCertHeader('a;b', 'x="y",z'), 'By="a;b";URI="x=\\"y\\",z"');
  });

  it('never lets a control character into a raw HTTP/1.1 field line', () => {
    assert.equal(clientCertLine(GW, 'spiffe://a.test/x\r\nX-Evil: 1'), `x-forwarded-client-cert: By=${GW};URI=spiffe://a.test/x??X-Evil: 1\r\n`);
  });

  it('reserves causeway-* and x-forwarded-client-cert for gateways', () => {
    for (const name of ['causeway-source', 'causeway-stream', 'x-forwarded-client-cert']) assert.equal(isGatewayField(name), true, name);
    for (const name of ['x-forwarded-for', 'forwarded', 'x-client-cert', 'causeway']) assert.equal(isGatewayField(name), false, name);
  });

  it('HTTP/2 call headers: the caller\'s identity fields are dropped, ours set for the next hop', () => {
    const incoming = {
      ':method': 'POST', ':path': '/svc/M', ':scheme': 'https', ':authority': 'grpc.demo:50051', 'content-type': 'application/grpc', te: 'trailers',
      'x-forwarded-client-cert': 'URI=spiffe://a.test/ns/demo/sa/admin', 'causeway-source': 'spiffe://a.test/ns/demo/sa/admin',
    };
    const hop = { method: 'POST', path: '/svc/M', scheme: 'http' as const, authority: 'grpc.demo:50051' };
    assert.deepEqual(callHeaders(incoming, hop, towardBackend(GW, CALLER)), {
      'content-type': 'application/grpc', te: 'trailers', ':method': 'POST', ':path': '/svc/M', ':scheme': 'http', ':authority': 'grpc.demo:50051',
      'x-forwarded-client-cert': `By=${GW};URI=${CALLER}`,
    });
    const towardB = callHeaders(incoming, { ...hop, scheme: 'https' }, towardGateway(CALLER));
    assert.equal(towardB['causeway-source'], CALLER);
    assert.equal(towardB['x-forwarded-client-cert'], undefined, 'toward a gateway the caller travels in causeway-source only');
    assert.deepEqual(Object.keys(callHeaders(incoming, hop, towardBackend(GW, undefined))).filter(isGatewayField), []);
  });
});
