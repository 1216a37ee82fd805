import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { admitsPeer } from '../../../../registry/index.js';
import { TunnelClient, TunnelError } from '../../../../gateway/dataplane/tunnel-client.js';
import { endpointOf, makeWorld, recordOf, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

// B's east-west listener asks the export rule (the peer manager's, in a gateway) whether a
// service is exported to the caller's peer: a service exported to other peers is as unknown
// to A's gateway as one never exported. Here cluster a is the peer of trust domain a.test.
describe('EastWestServer and exportTo', () => {
  let world: World;
  let tunnels: TunnelClient;

  before(async () => {
    world = await makeWorld({
      eastWest: {
        exportsTo: (record, trustDomain) => trustDomain === 'a.test' && admitsPeer(record.exportTo, { name: 'a', cluster: 'a', labels: {} }),
      },
    });
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
    tunnels = new TunnelClient({ svid: world.a.svid, trust: world.a.trust });
    for (const [name, exportTo] of [['to-a', ['a']], ['to-c', ['c']], ['to-all', undefined]] as const) {
      world.b.catalog.applyLocal({ ...recordOf('b', `tcp${name}`, [endpointOf(world.echoPort)]), ...(exportTo === undefined ? {} : { exportTo: [...exportTo] }) });
    }
  });

  after(async () => {
    await tunnels?.close();
    await world?.close();
  });

  it('serves what is exported to the caller\'s peer, and answers 404 CW_SERVICE_UNKNOWN for what is exported only to others', async () => {
    for (const authority of ['tcpto-a.demo:8080', 'tcpto-all.demo:8080']) {
      const { stream, headers } = await tunnels.open(world.gatewayB, authority, CLIENT);
      assert.equal(headers[':status'], 200, authority);
      stream.destroy();
    }
    const refused = await tunnels.open(world.gatewayB, 'tcpto-c.demo:8080', CLIENT).then((o) => {
      o.stream.destroy();
      return undefined;
    }, (err: unknown) => err);
    assert.ok(refused instanceof TunnelError, String(refused));
    assert.equal(refused.status, 404);
    assert.equal(refused.code, 'CW_SERVICE_UNKNOWN');
  });
});
