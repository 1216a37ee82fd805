import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { endpointOf, makeWorld, publishInB, type World } from './sides.js';

const CLIENT = 'spiffe://a.test/ns/demo/sa/client';

function answered(stream: ClientHttp2Stream, withinMs: number): Promise<number | 'no answer'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('no answer'), withinMs);
    stream.once('response', (headers) => {
      clearTimeout(timer);
      resolve(Number(headers[':status']));
    });
  });
}

describe('east-west SETTINGS_MAX_CONCURRENT_STREAMS (limits.eastWest.maxConcurrentStreams)', () => {
  let world: World;
  let session: ClientHttp2Session;

  before(async () => {
    world = await makeWorld({ eastWest: { maxConcurrentStreams: 4, maxHeaderListSize: 8192 } });
    world.rulesB.push({ to: '*', from: ['spiffe://a.test/ns/demo/*'] });
    publishInB(world, 'tcpecho', [endpointOf(world.echoPort)]);
    const svid = world.a.svid.current();
    session = connect(`https://${world.gatewayB.eastWestAddress}`, {
      ca: world.b.ca.bundle().rootsPem[0]!, cert: svid.certChainPem, key: svid.keyPem,
      minVersion: 'TLSv1.3', checkServerIdentity: () => undefined,
    });
    await new Promise<void>((resolve) => session.once('remoteSettings', () => resolve()));
  });

  after(async () => {
    session?.destroy();
    await world?.close();
  });

  it('is advertised with the header list size, and a fifth tunnel waits until one of four closes', async () => {
    assert.equal(session.remoteSettings.maxConcurrentStreams, 4);
    assert.equal(session.remoteSettings.maxHeaderListSize, 8192);
    const open = (): ClientHttp2Stream => session.request({ ':method': 'CONNECT', ':authority': 'tcpecho.demo:8080', 'causeway-source': CLIENT }, { endStream: false });
    const first = Array.from({ length: 4 }, open);
    assert.deepEqual(await Promise.all(first.map((s) => answered(s, 10_000))), [200, 200, 200, 200]);
    const fifth = open();
    assert.equal(await answered(fifth, 500), 'no answer', 'a fifth concurrent stream must not be served');
    first[0]!.close();
    assert.equal(await answered(fifth, 10_000), 200);
    for (const s of [...first, fifth]) s.close();
    assert.equal(world.eastWestB.stats().refused.CW_REQUEST_INVALID ?? 0, 0);
  });
});
