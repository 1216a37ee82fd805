import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeRetryWorld, send, sendAndLeave, sleep, startRelay, type RetryWorld } from './retry-world.js';

/**
 * Retries at A's outbound listener, through the real east-west listeners of B and C: A tries
 * B (its region) first, then C. Each test has its own service (so its own retry budget,
 * outlier state and pooled connections) and its own backends.
 */
describe('HTTP/1.1 retries at the outbound listener', () => {
  let world: RetryWorld;

  before(async () => {
    world = await makeRetryWorld();
  });

  after(async () => {
    await world?.close();
  });

  it('retries a GET answered 503 by the first cluster on the next one; the caller sees only the 200', async () => {
    const svc = await world.publish('r503', { b: '503', c: 'ok' });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 200, answer.raw);
    assert.equal(answer.body, 'from c');
    assert.equal(answer.headers['x-backend'], 'c');
    assert.match(answer.headers['causeway-route'] ?? '', /^remote c via spiffe:\/\/c\.test\/gateway\/gw-c/);
    // The discarded answer never reached the caller: one status line, nothing of B's body.
    assert.equal(answer.raw.match(/HTTP\/1\.1 \d{3}/g)?.length, 1, answer.raw);
    assert.ok(!answer.raw.includes('discarded answer'), answer.raw);
    assert.equal(svc.b?.requests.length, 1);
    assert.equal(svc.c?.requests.length, 1);
  });

  it('does not retry a POST with a body answered 503: the caller gets the 503', async () => {
    const svc = await world.publish('post503', { b: '503', c: 'ok' });
    const answer = await send(world.proxyPort, 'POST', svc.url, { body: 'pay 10' });
    assert.equal(answer.status, 503, answer.raw);
    assert.equal(answer.body, 'discarded answer from b');
    assert.equal(svc.c?.requests.length, 0, 'C never saw the POST');
    assert.equal(svc.c?.accepted, 0);
  });

  it('retries a GET whose local upstream resets before answering on the next candidate', async () => {
    const svc = await world.publish('reset', { local: 'reset', b: 'ok', c: 'ok' });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 200, answer.raw);
    assert.equal(answer.body, 'from b');
    assert.equal(svc.local?.requests.length, 1);
    assert.equal(svc.c?.requests.length, 0);
  });

  it('retries a GET whose remote backend resets (B answers 502 for it) on the next cluster', async () => {
    const svc = await world.publish('remote-reset', { b: 'reset', c: 'ok' });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 200, answer.raw);
    assert.equal(answer.body, 'from c');
  });

  it('does not retry when retries.attempts is 0', async () => {
    const svc = await world.publish('noretry', { b: '503', c: 'ok' });
    world.setFailover(svc.key, { retries: { attempts: 0 } });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 503, answer.raw);
    assert.equal(svc.c?.accepted, 0);
  });

  it('does not retry a 5xx when retries.on leaves 5xx out', async () => {
    const svc = await world.publish('on-reset', { b: '503', c: 'ok' });
    world.setFailover(svc.key, { retries: { on: ['connect-failure', 'reset'] } });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 503, answer.raw);
    assert.equal(svc.c?.accepted, 0);
  });

  it('gives up after retries.attempts further tries', async () => {
    const svc = await world.publish('attempts', { local: '503', b: '503', c: 'ok' });
    world.setFailover(svc.key, { retries: { attempts: 1 } });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 503, answer.raw);
    assert.equal(answer.body, 'discarded answer from b', 'the last try\'s answer is passed on');
    assert.equal(svc.local?.requests.length, 1);
    assert.equal(svc.b?.requests.length, 1);
    assert.equal(svc.c?.accepted, 0);
  });

  it('per-try timeout: a first backend that never answers is given up after perTryTimeout, the next one answers', async () => {
    const svc = await world.publish('pertry', { b: 'hold', c: 'ok' });
    world.setFailover(svc.key, { retries: { perTryTimeoutMs: 300 } });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 200, answer.raw);
    assert.equal(answer.body, 'from c');
    assert.ok(answer.ms >= 280 && answer.ms < 2500, `answered after ${answer.ms} ms`);
    assert.equal(svc.b?.requests.length, 1);
  });

  it('route timeout: every backend hangs → 504 CW_UPSTREAM_TIMEOUT in about the timeout', async () => {
    const svc = await world.publish('hang', { b: 'hold', c: 'hold' });
    world.setFailover(svc.key, { timeoutMs: 500 });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 504, answer.raw);
    assert.match(answer.body, /CW_UPSTREAM_TIMEOUT/);
    assert.ok(answer.ms >= 450 && answer.ms < 2500, `answered after ${answer.ms} ms`);
  });

  it('route timeout bounds every try together: per-try 300 ms, route 500 ms, both backends hang', async () => {
    const svc = await world.publish('hang2', { b: 'hold', c: 'hold' });
    world.setFailover(svc.key, { timeoutMs: 500, retries: { perTryTimeoutMs: 300 } });
    const answer = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(answer.status, 504, answer.raw);
    assert.match(answer.body, /CW_UPSTREAM_TIMEOUT/);
    assert.ok(answer.ms >= 450 && answer.ms < 2500, `answered after ${answer.ms} ms`);
    assert.equal(svc.b?.requests.length, 1);
    assert.equal(svc.c?.requests.length, 1, 'C was tried once B\'s try timed out');
  });

  for (const how of ['reset', 'close'] as const) {
    it(`a caller that leaves (${how === 'reset' ? 'RST' : 'FIN'}) while its request waits is not dialed to the next candidate`, async () => {
      const svc = await world.publish(`gone-${how}`, { b: 'hold', c: 'ok' });
      world.setFailover(svc.key, { retries: { perTryTimeoutMs: 400 } });
      const opened = world.c.eastWest.stats().tunnelsOpened;
      await sendAndLeave(world.proxyPort, svc.url, 150, how);
      // Past the per-try timeout: a retry would have gone to C by now.
      await sleep(900);
      assert.equal(svc.b?.requests.length, 1);
      assert.equal(svc.c?.accepted, 0, 'C\'s backend was never dialed');
      assert.equal(world.c.eastWest.stats().tunnelsOpened, opened, 'no CONNECT stream was opened to C');
    });
  }

  it('does not retry once the service\'s retry budget is spent', async () => {
    const svc = await world.publish('budget', { b: '503', c: 'ok' });
    world.setFailover(svc.key, { retries: { budgetPercent: 0, minRetriesPerSecond: 1 } });
    const first = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(first.status, 200, 'the one retry a second the floor allows');
    const second = await send(world.proxyPort, 'GET', svc.url);
    assert.equal(second.status, 503, second.raw);
    assert.equal(second.body, 'discarded answer from b');
    assert.equal(svc.c?.requests.length, 1, 'C saw the first request only');
  });

  it('route timeout bounds the connect to a blackholed gateway too', async () => {
    // B's gateway accepts TCP and never says a word (a frozen process).
    const held = new Set<Socket>();
    const blackhole = createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const real = world.b.gateway;
    try {
      world.a.catalog.setGateway({ ...real, eastWestAddress: `127.0.0.1:${(blackhole.address() as AddressInfo).port}` });
      const svc = await world.publish('frozen', { b: 'ok', c: 'hold' });
      world.setFailover(svc.key, { timeoutMs: 500 });
      const answer = await send(world.proxyPort, 'GET', svc.url);
      assert.equal(answer.status, 504, answer.raw);
      assert.ok(answer.ms < 1500, `answered after ${answer.ms} ms (connect timeout 2000 ms)`);
    } finally {
      world.a.catalog.setGateway(real);
      for (const socket of held) socket.destroy();
      blackhole.close();
    }
  });
});

describe('HTTP/1.1 retries when the first cluster\'s gateway freezes mid-request', () => {
  let world: RetryWorld;

  before(async () => {
    // The default connect timeout: a dial to a frozen gateway costs all of it.
    world = await makeRetryWorld({ connectTimeoutMs: 5000 });
  });

  after(async () => {
    await world?.close();
  });

  it('goes on to the next cluster once the session fails its PING, not back to the frozen gateway', async () => {
    const relay = await startRelay(Number(world.b.gateway.eastWestAddress.split(':')[1]));
    const real = world.b.gateway;
    try {
      world.a.catalog.setGateway({ ...real, eastWestAddress: `127.0.0.1:${relay.port}` });
      const svc = await world.publish('frozen-gw', { b: 'ok', c: 'ok' });
      // A first request leaves a pooled stream to B, which the next one reuses.
      assert.equal((await send(world.proxyPort, 'GET', svc.url)).body, 'from b');
      svc.b!.mode = 'hold';
      const pending = send(world.proxyPort, 'GET', svc.url);
      await sleep(100);
      relay.freeze();
      const answer = await pending;
      assert.equal(answer.status, 200, answer.raw);
      assert.equal(answer.body, 'from c');
      // PING every 500 ms, unanswered for 1000 ms: about 1.5 s; dialing B again would add 5 s.
      assert.ok(answer.ms < 3500, `answered after ${answer.ms} ms`);
    } finally {
      world.a.catalog.setGateway(real);
      relay.close();
    }
  });

  it('answers every GET from the next cluster: those waiting on the frozen gateway and those sent after it froze, whatever the retry budget', async () => {
    const relay = await startRelay(Number(world.b.gateway.eastWestAddress.split(':')[1]));
    const real = world.b.gateway;
    try {
      world.a.catalog.setGateway({ ...real, eastWestAddress: `127.0.0.1:${relay.port}` });
      const svc = await world.publish('frozen-many', { b: 'ok', c: 'ok' });
      // A gateway found dead is passed over like a failed connect: the budget (one retry a
      // second here) is for tries that failed with an answer or a reset, and a freeze catches
      // every request in flight at once.
      world.setFailover(svc.key, { retries: { budgetPercent: 0, minRetriesPerSecond: 1 } });
      // Several pooled streams to B.
      const warm = await Promise.all(Array.from({ length: 6 }, () => send(world.proxyPort, 'GET', svc.url)));
      assert.deepEqual(warm.map((a) => a.body), Array(6).fill('from b'));
      svc.b!.mode = 'hold';
      const answers: Array<Promise<Awaited<ReturnType<typeof send>>>> = [];
      for (let i = 0; i < 3; i += 1) answers.push(send(world.proxyPort, 'GET', svc.url));
      await sleep(100);
      relay.freeze();
      for (const wait of [0, 50, 150, 300]) {
        await sleep(wait);
        for (let i = 0; i < 2; i += 1) answers.push(send(world.proxyPort, 'GET', svc.url));
      }
      const done = await Promise.all(answers);
      assert.deepEqual(done.map((a) => `${a.status} ${a.body}`), Array(done.length).fill('200 from c'), done.map((a) => a.raw).join('\n'));
    } finally {
      world.a.catalog.setGateway(real);
      relay.close();
    }
  });
});
