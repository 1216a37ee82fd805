import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serveDashboard } from '../../../../gateway/admin/dashboard-routes.js';
import { decodePath, sendJson } from '../../../../gateway/admin/http-json.js';
import { makeTempDir } from '../../../helpers/paths.js';

interface Answer { status: number; headers: IncomingHttpHeaders; body: string }

/** A request with its path sent exactly as written (fetch would resolve dot segments first). */
function send(port: number, rawPath: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method, headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${rawPath}`)));
    req.on('error', reject);
    req.end();
  });
}

/** The admin server's way in: the URL's pathname, decoded into segments, then the dashboard, then 404. */
async function serveFrom(root: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const segments = decodePath(new URL(req.url ?? '/', 'http://admin.invalid').pathname);
    serveDashboard(req, res, segments, root).then((served) => {
      if (!served) sendJson(res, 404, { error: { code: 'CW_NOT_FOUND', message: 'no route' } });
    }, (err: unknown) => res.destroy(err as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const codeOf = (answer: Answer): string => (JSON.parse(answer.body) as { error: { code: string } }).error.code;

describe('dashboard routes', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let built: { server: Server; port: number };
  let unbuilt: { server: Server; port: number };

  before(async () => {
    tmp = await makeTempDir('dashboard-routes');
    const root = path.join(tmp.dir, 'dashboard');
    await mkdir(path.join(root, 'sub'), { recursive: true });
    await writeFile(path.join(root, 'index.html'), '<!doctype html><title>dash</title>');
    await writeFile(path.join(root, 'app.js'), 'console.info("app")');
    await writeFile(path.join(root, 'app.css'), 'body{}');
    await writeFile(path.join(root, 'notes.txt'), 'not part of the page');
    // What a traversal would reach: a file beside the bundle.
    await writeFile(path.join(tmp.dir, 'secret.txt'), 'SECRET');
    built = await serveFrom(root);
    unbuilt = await serveFrom(path.join(tmp.dir, 'never-built'));
  });

  after(async () => {
    for (const s of [built, unbuilt]) await new Promise((resolve) => s?.server.close(resolve));
    await tmp?.remove();
  });

  it('redirects / and /dashboard to /dashboard/', async () => {
    for (const p of ['/', '/dashboard']) {
      const answer = await send(built.port, p);
      assert.deepEqual([answer.status, answer.headers.location], [302, '/dashboard/'], p);
    }
  });

  it('serves the page\'s files with their content types, a validator, and revalidation every load', async () => {
    const expected: Array<[string, string, string]> = [
      ['/dashboard/', 'text/html; charset=utf-8', '<!doctype html><title>dash</title>'],
      ['/dashboard/index.html', 'text/html; charset=utf-8', '<!doctype html><title>dash</title>'],
      ['/dashboard/app.js', 'text/javascript; charset=utf-8', 'console.info("app")'],
      ['/dashboard/app.css', 'text/css; charset=utf-8', 'body{}'],
    ];
    for (const [p, type, body] of expected) {
      const answer = await send(built.port, p);
      assert.deepEqual([answer.status, answer.headers['content-type'], answer.body], [200, type, body], p);
      assert.equal(answer.headers['cache-control'], 'no-cache');
      assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      assert.match(String(answer.headers['content-security-policy']), /default-src 'self'/);
      assert.match(answer.headers.etag ?? '', /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    }
  });

  it('answers 304 to a matching If-None-Match, and HEAD without a body', async () => {
    const first = await send(built.port, '/dashboard/app.js');
    const again = await send(built.port, '/dashboard/app.js', 'GET', { 'if-none-match': String(first.headers.etag) });
    assert.deepEqual([again.status, again.body], [304, '']);
    const head = await send(built.port, '/dashboard/app.js', 'HEAD');
    assert.deepEqual([head.status, head.headers['content-length'], head.body], [200, String('console.info("app")'.length), '']);
  });

  it('refuses a path that leaves the bundle (decoded "..", separators, NUL) with 400, serving nothing', async () => {
    for (const p of ['/dashboard/..%2fsecret.txt', '/dashboard/..%2F..%2Fsecret.txt', '/dashboard/..%5csecret.txt', '/dashboard/sub/..%2f..%2fsecret.txt',
      '/dashboard/app.js%00.css', '/dashboard//app.js']) {
      const answer = await send(built.port, p);
      assert.equal(answer.status, 400, p);
      assert.equal(codeOf(answer), 'CW_REQUEST_INVALID', p);
      assert.doesNotMatch(answer.body, /SECRET/);
    }
    // Plain dot segments are resolved by the URL parser before any route sees them: they never reach a file outside either.
    for (const p of ['/dashboard/../secret.txt', '/dashboard/%2e%2e/secret.txt']) {
      const answer = await send(built.port, p);
      assert.equal(answer.status, 404, p);
      assert.doesNotMatch(answer.body, /SECRET/);
    }
  });

  it('answers 404 for a file the bundle does not have, a folder, or a kind of file it never ships', async () => {
    for (const p of ['/dashboard/nope.js', '/dashboard/sub', '/dashboard/notes.txt']) {
      const answer = await send(built.port, p);
      assert.deepEqual([answer.status, codeOf(answer)], [404, 'CW_NOT_FOUND'], p);
    }
  });

  it('leaves other paths and methods to the rest of the admin API', async () => {
    assert.equal((await send(built.port, '/v1/status')).status, 404);
    assert.equal((await send(built.port, '/dashboard/', 'POST')).status, 404);
    assert.equal((await send(built.port, '/dashboardx/app.js')).status, 404);
  });

  it('answers 503 CW_DASHBOARD_UNAVAILABLE, naming the build, when the bundle is missing', async () => {
    for (const p of ['/dashboard/', '/dashboard/app.js']) {
      const answer = await send(unbuilt.port, p);
      assert.deepEqual([answer.status, codeOf(answer)], [503, 'CW_DASHBOARD_UNAVAILABLE'], p);
      assert.match(answer.body, /npm run build/);
    }
  });
});
