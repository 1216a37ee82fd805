import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { LiveFeed, type LiveFeedOptions } from '../../../../gateway/admin/live-feed.js';
import { waitFor } from '../../../helpers/wait-for.js';

interface Client { ws: WebSocket; messages: Array<Record<string, unknown>>; pings: number }

/** A client of the feed that keeps every message it is sent. */
async function connect(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
  const client: Client = { ws, messages: [], pings: 0 };
  ws.on('message', (data) => client.messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.on('ping', () => {
    client.pings += 1;
  });
  await once(ws, 'open');
  return client;
}

/** The HTTP answer to an upgrade the feed refused before it became a WebSocket. */
async function refusal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; code: string }> {
  const ws = new WebSocket(url, { headers, handshakeTimeout: 10_000 });
  ws.on('error', () => undefined);
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  ws.terminate();
  return { status: res.statusCode ?? 0, code: (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error: { code: string } }).error.code };
}

describe('live feed', () => {
  let server: Server | undefined;
  let feed: LiveFeed | undefined;
  const clients: WebSocket[] = [];
  let reads = 0;

  /** A feed on an HTTP server on port 0; each message numbers the read that built it. */
  const start = async (options: Partial<LiveFeedOptions> = {}): Promise<{ url: string; host: string }> => {
    reads = 0;
    server = createServer((_req, res) => res.writeHead(404).end());
    feed = new LiveFeed(server, {
      read: () => ({ type: 'update', status: { read: ++reads }, services: [], traffic: { totals: { requests: 0 } } }),
      intervalMs: 50, ...options,
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url: `ws://${host}/v1/live`, host };
  };
  const track = (client: Client): Client => {
    clients.push(client.ws);
    return client;
  };

  afterEach(async () => {
    for (const ws of clients.splice(0)) ws.terminate();
    await feed?.close();
    await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
    server = undefined;
    feed = undefined;
  });

  it('sends an update at once on connect, with status, services and traffic', async () => {
    const { url } = await start({ intervalMs: 60_000 });
    const client = track(await connect(url));
    const first = await waitFor('the first message', () => client.messages[0]);
    assert.deepEqual(Object.keys(first).sort(), ['services', 'status', 'traffic', 'type']);
    assert.equal(first.type, 'update');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(client.messages.length, 1, 'nothing more before the first interval is up');
  });

  it('then sends one every interval, each built anew', async () => {
    const { url } = await start({ intervalMs: 50 });
    const client = track(await connect(url));
    await waitFor('three updates', () => (client.messages.length >= 3 ? true : undefined));
    const numbers = client.messages.map((m) => (m.status as { read: number }).read);
    assert.deepEqual(numbers, [...new Set(numbers)].sort((a, b) => a - b), 'each a new read, in the order they were built');
  });

  it('builds each update once for every client, and stops reading when the last one leaves', async () => {
    const { url } = await start();
    const a = track(await connect(url));
    const b = track(await connect(url));
    await waitFor('both fed', () => (a.messages.length >= 3 && b.messages.length >= 3 ? true : undefined));
    const shared = a.messages.at(-1)?.status as { read: number };
    await waitFor('b sent the same build', () => (b.messages.some((m) => (m.status as { read: number }).read === shared.read) ? true : undefined));
    a.ws.close();
    b.ws.close();
    await waitFor('no clients', () => (feed!.clientCount === 0 ? true : undefined));
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(reads, after, 'no update is built with no one to send it to');
  });

  it('pings its clients', async () => {
    const { url } = await start({ intervalMs: 20, pingIntervalMs: 40 });
    const client = track(await connect(url));
    await waitFor('a ping', () => (client.pings > 0 ? true : undefined));
  });

  it('closes a client over the cap with 1013 and a reason, serving the others', async () => {
    const { url } = await start({ maxClients: 2 });
    const served = [track(await connect(url)), track(await connect(url))];
    const third = track(await connect(url));
    const [code, reason] = (await once(third.ws, 'close')) as [number, Buffer];
    assert.equal(code, 1013);
    assert.match(String(reason), /full \(2 clients\)/);
    assert.equal(third.messages.length, 0, 'the refused client got no update');
    const counts = served.map((c) => c.messages.length);
    await waitFor('the two still fed', () => (served.every((c, i) => c.messages.length > (counts[i] ?? 0)) ? true : undefined));
    assert.equal(feed!.clientCount, 2);
  });

  it('refuses other paths with 404, and a page of another origin with 403', async () => {
    const { url, host } = await start();
    assert.deepEqual(await refusal(url.replace('/v1/live', '/v1/other')), { status: 404, code: 'CW_NOT_FOUND' });
    assert.deepEqual(await refusal(url, { origin: 'https://evil.example' }), { status: 403, code: 'CW_ORIGIN_REFUSED' });
    const samePage = track(await connect(url, { origin: `http://${host}` }));
    await waitFor('the same-origin page fed', () => samePage.messages[0]);
  });

  it('close() closes every client with 1001, stops the timer, and takes no new client', async () => {
    const { url } = await start();
    const clientsNow = [track(await connect(url)), track(await connect(url))];
    const closes = clientsNow.map((c) => once(c.ws, 'close') as Promise<[number, Buffer]>);
    await feed!.close();
    for (const [code] of await Promise.all(closes)) assert.equal(code, 1001);
    const after = reads;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(reads, after);
    const late = new WebSocket(url, { handshakeTimeout: 10_000 });
    const [err] = (await once(late, 'error')) as [Error];
    assert.ok(err instanceof Error, 'the upgrade after close() is refused');
    late.terminate();
  });
});
