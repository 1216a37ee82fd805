import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { ForwardListeners, addForwards, type ForwardHandler } from '../../../../gateway/dataplane/forward-listeners.js';
import type { MeshAuthority } from '../../../../gateway/dataplane/mesh-address.js';
import { waitFor } from '../../../helpers/wait-for.js';

const ECHO: MeshAuthority = { key: 'echo.demo', name: 'echo', namespace: 'demo', port: 8080 };

/** A handler that holds every connection it is given (the proxy would own it). */
function holding(): ForwardHandler & { got: Array<{ socket: Socket; target: string; via: string }> } {
  const got: Array<{ socket: Socket; target: string; via: string }> = [];
  return { got, forward: (socket, target, via) => void got.push({ socket, target: `${target.key}:${target.port}`, via }) };
}

function open(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('ForwardListeners', () => {
  it('hands each connection to the handler with its target and port, and closes them on remove', async () => {
    const handler = holding();
    const listeners = new ForwardListeners({ handler });
    try {
      const bound = await listeners.add({ listen: { host: '127.0.0.1', port: 0 }, service: ECHO });
      const listen = `127.0.0.1:${bound.port}`;
      const client = await open(bound.port);
      await waitFor('the handler to get the connection', () => (handler.got.length > 0 ? true : undefined));
      assert.deepEqual(handler.got.map((g) => [g.target, g.via]), [['echo.demo:8080', `forward ${listen}`]]);
      assert.deepEqual(listeners.list(), [{ listen, service: 'echo.demo:8080', connections: 1 }]);
      await listeners.remove(listen);
      await client.closed;
      assert.deepEqual(listeners.list(), []);
      await assert.rejects(open(bound.port), /ECONNREFUSED/);
    } finally {
      await listeners.close();
    }
  });

  it('closes connections past maxConnections, across every port', async () => {
    const handler = holding();
    const listeners = new ForwardListeners({ handler, maxConnections: 1 });
    try {
      const one = await listeners.add({ listen: { host: '127.0.0.1', port: 0 }, service: ECHO });
      const two = await listeners.add({ listen: { host: '127.0.0.1', port: 0 }, service: { ...ECHO, port: 9090 } });
      await open(one.port);
      await waitFor('the handler to get the connection', () => (handler.got.length > 0 ? true : undefined));
      const refused = await open(two.port);
      await refused.closed;
      assert.equal(handler.got.length, 1);
    } finally {
      await listeners.close();
    }
    assert.ok(handler.got.every((g) => g.socket.destroyed), 'close ends every connection');
  });

  it('names the config entry whose address cannot be bound, and refuses adds once closed', async () => {
    const listeners = new ForwardListeners({ handler: holding() });
    const taken = await listeners.add({ listen: { host: '127.0.0.1', port: 0 }, service: ECHO });
    await assert.rejects(
      addForwards(listeners, [{ listen: { host: '127.0.0.1', port: taken.port }, service: ECHO }], 'outbound.forward'),
      (err: unknown) => isCausewayError(err, 'CW_LISTEN_FAILED')
        && err.message === `outbound.forward[0]: forward to echo.demo:8080: cannot listen on 127.0.0.1:${taken.port}: the address is already in use`,
    );
    await listeners.close();
    await listeners.close();
    await assert.rejects(listeners.add({ listen: { host: '127.0.0.1', port: 0 }, service: ECHO }), (err: unknown) => isCausewayError(err, 'CW_CLOSED'));
  });
});
