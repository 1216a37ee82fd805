// GET /v1/catalog/node/:node of the Consul API double, through the real `consul` client, as the
// Consul publisher reads its own node: the services by ID, null for an unknown node, blocking.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Consul from 'consul';
import { ConsulApiDouble } from '../../doubles/consul-api.js';
import { waitFor } from '../../helpers/wait-for.js';

interface NodeServices { Node: { Node: string; Address: string; Meta: Record<string, string> }; Services: Record<string, { Service: string; Port: number; Tags: string[] }> }

describe('Consul API double: the services of a node', () => {
  let consul: ConsulApiDouble;
  let client: Consul;
  let base = '';

  before(async () => {
    consul = new ConsulApiDouble({ jitter: false });
    const { host, port } = await consul.start();
    base = `http://${host}:${port}`;
    client = new Consul({ host, port, secure: false });
  });
  after(async () => {
    await consul.close();
  });

  it('lists a node\'s services by ID, and answers null for a node it does not have', async () => {
    consul.registerService({ node: 'ext', address: '10.0.0.9', nodeMeta: { 'external-node': 'true' }, service: 'billing-prod', id: 'b-1', tags: ['http'], port: 21000 });
    consul.registerService({ node: 'ext', address: '10.0.0.9', service: 'ledger-prod', id: 'l-1', port: 21001 });
    consul.registerService({ node: 'other', service: 'billing-prod', id: 'b-2', port: 8080 });
    const answer = await client.catalog.node.services('ext') as NodeServices;
    assert.deepEqual([answer.Node.Node, answer.Node.Address, answer.Node.Meta], ['ext', '10.0.0.9', { 'external-node': 'true' }]);
    assert.deepEqual(Object.entries(answer.Services).map(([id, s]) => [id, s.Service, s.Port, s.Tags]).sort(), [
      ['b-1', 'billing-prod', 21000, ['http']], ['l-1', 'ledger-prod', 21001, []],
    ]);
    const nobody = await fetch(`${base}/v1/catalog/node/nobody`);
    assert.deepEqual([nobody.status, await nobody.text()], [200, 'null']);
    assert.equal(await client.catalog.node.services('nobody'), undefined, 'the client hands a null body on as undefined');
    const missing = await fetch(`${base}/v1/catalog/node/`);
    assert.deepEqual([missing.status, await missing.text()], [400, 'Missing node name']);
  });

  it('blocks until the node\'s services change', async () => {
    const first = await fetch(`${base}/v1/catalog/node/ext`);
    const index = Number(first.headers.get('x-consul-index'));
    const waiting = fetch(`${base}/v1/catalog/node/ext?index=${index}&wait=5s`);
    await waitFor('the query to park', () => (consul.blockedQueries > 0 ? true : undefined));
    consul.deregister('ext', 'l-1');
    const answer = await waiting;
    assert.ok(Number(answer.headers.get('x-consul-index')) > index);
    assert.deepEqual(Object.keys(((await answer.json()) as NodeServices).Services), ['b-1']);
  });
});
