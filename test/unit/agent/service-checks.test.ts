import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { isCausewayError } from '../../../registry/index.js';
import { probeCommand } from '../../../gateway/agent/command-probe.js';
import {
  ServiceChecks, parseCheck, type CheckHealth, type ServiceCheck,
} from '../../../gateway/agent/service-checks.js';
import { makeTempDir } from '../../helpers/paths.js';
import { waitFor } from '../../helpers/wait-for.js';

const SERVICE = 'web.prod';

/** A node:http service whose answer the test sets, counting what it answered. */
interface HttpService {
  port: number;
  status: number;
  answered: number;
  close(): Promise<void>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => { for (const close of closers.splice(0).reverse()) await close(); });

async function startHttp(status = 200): Promise<HttpService> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    service.answered += 1;
    res.statusCode = service.status;
    res.end('ok\n');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const service: HttpService = {
    port: (server.address() as AddressInfo).port, status, answered: 0,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) resolve();
      else server.close(() => resolve());
    }),
  };
  closers.push(() => service.close());
  return service;
}

function listenTcp(port = 0): Promise<TcpServer> {
  const server = createTcpServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function closeTcp(server: TcpServer): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

/** parseCheck that must succeed, then the short test timings (below parseCheck's minimum interval). */
function check(config: Record<string, unknown>, timing: Partial<ServiceCheck> = {}): ServiceCheck {
  const errors: string[] = [];
  const parsed = parseCheck(config, 'check', errors);
  assert.deepEqual(errors, []);
  assert.ok(parsed !== undefined);
  return { ...parsed, intervalMs: 50, timeoutMs: 5000, ...timing } as ServiceCheck;
}

function newChecks(): { checks: ServiceChecks; events: Array<{ service: string; health: CheckHealth; detail: string }> } {
  const checks = new ServiceChecks();
  closers.push(() => checks.close());
  const events: Array<{ service: string; health: CheckHealth; detail: string }> = [];
  checks.onChange((service, health, detail) => events.push({ service, health, detail }));
  return { checks, events };
}

const statusOf = (checks: ServiceChecks, service = SERVICE) => checks.status().find((s) => s.service === service);

/** Whether a process runs; a zombie (exited, its parent not yet reaping: PID 1 in some containers) does not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false; // gone in between
  }
}

describe('ServiceChecks', () => {
  it('a service without a check is healthy', () => {
    const { checks } = newChecks();
    assert.equal(checks.health(SERVICE), 'healthy');
    assert.deepEqual(checks.status(), []);
  });

  it('a new check is unhealthy until its first pass, and one pass makes it healthy at once', async () => {
    const http = await startHttp(200);
    const { checks, events } = newChecks();
    checks.set(SERVICE, check({ http: `http://127.0.0.1:${http.port}/health`, healthyThreshold: 5 }));
    assert.equal(checks.health(SERVICE), 'unhealthy');
    await waitFor('healthy', () => (checks.health(SERVICE) === 'healthy' ? true : undefined));
    assert.deepEqual(events.map((e) => e.health), ['unhealthy', 'healthy']);
    assert.match(events[1]?.detail ?? '', /HTTP 200 \(first pass\)/);
    const status = statusOf(checks);
    assert.equal(status?.kind, 'http');
    assert.equal(status?.target, `http://127.0.0.1:${http.port}/health`);
    assert.equal(status?.lastResult?.reason, 'HTTP 200');
    assert.ok(status?.lastCheckedAt !== undefined);
  });

  it('flips unhealthy after unhealthyThreshold failures and back after healthyThreshold passes, one change per flip', async () => {
    const http = await startHttp(200);
    const { checks, events } = newChecks();
    const countsAtFlip: Array<{ health: CheckHealth; passes: number; failures: number }> = [];
    checks.onChange((service, health) => {
      const s = statusOf(checks, service);
      countsAtFlip.push({ health, passes: s?.consecutivePasses ?? -1, failures: s?.consecutiveFailures ?? -1 });
    });
    checks.set(SERVICE, check({ http: `http://127.0.0.1:${http.port}/`, unhealthyThreshold: 3, healthyThreshold: 2 }));
    await waitFor('healthy', () => (checks.health(SERVICE) === 'healthy' ? true : undefined));
    // Several passes while healthy: no event.
    const answered = http.answered;
    await waitFor('more passes', () => (http.answered >= answered + 3 ? true : undefined));
    assert.equal(events.length, 2);

    http.status = 503;
    await waitFor('unhealthy', () => (checks.health(SERVICE) === 'unhealthy' ? true : undefined));
    assert.match(events[2]?.detail ?? '', /^HTTP 503 \(3 failures in a row\)/);
    http.status = 204;
    await waitFor('healthy again', () => (checks.health(SERVICE) === 'healthy' ? true : undefined));
    const settled = http.answered;
    await waitFor('more passes', () => (http.answered >= settled + 3 ? true : undefined));

    assert.deepEqual(events.map((e) => e.health), ['unhealthy', 'healthy', 'unhealthy', 'healthy']);
    assert.deepEqual(countsAtFlip.slice(1), [
      { health: 'healthy', passes: 1, failures: 0 },
      { health: 'unhealthy', passes: 0, failures: 3 },
      { health: 'healthy', passes: 2, failures: 0 },
    ]);
    assert.equal(statusOf(checks)?.lastError?.reason, 'HTTP 503');
  });

  it('an http check with expectStatus fails on any other status', async () => {
    const http = await startHttp(200);
    const { checks } = newChecks();
    checks.set(SERVICE, check({ http: `http://localhost:${http.port}/`, expectStatus: 204, unhealthyThreshold: 1 }));
    await waitFor('a result', () => statusOf(checks)?.lastResult);
    assert.equal(checks.health(SERVICE), 'unhealthy');
    assert.equal(statusOf(checks)?.lastResult?.ok, false);
    http.status = 204;
    await waitFor('healthy', () => (checks.health(SERVICE) === 'healthy' ? true : undefined));
  });

  it('a tcp check follows a listener that closes and opens again', async () => {
    let server = await listenTcp();
    const port = (server.address() as AddressInfo).port;
    closers.push(() => closeTcp(server));
    const { checks, events } = newChecks();
    checks.set(SERVICE, check({ tcp: `127.0.0.1:${port}`, unhealthyThreshold: 2, healthyThreshold: 2 }));
    await waitFor('healthy', () => (checks.health(SERVICE) === 'healthy' ? true : undefined));
    await closeTcp(server);
    await waitFor('unhealthy', () => (checks.health(SERVICE) === 'unhealthy' ? true : undefined));
    assert.match(statusOf(checks)?.lastError?.reason ?? '', /connect ECONNREFUSED/);
    server = await listenTcp(port);
    await waitFor('healthy again', () => (checks.health(SERVICE) === 'healthy' ? true : undefined));
    assert.deepEqual(events.map((e) => e.health), ['unhealthy', 'healthy', 'unhealthy', 'healthy']);
  });

  it('command checks: /bin/true passes, /bin/false never does', async () => {
    const { checks, events } = newChecks();
    checks.set('ok.prod', check({ command: ['/bin/true'] }));
    checks.set('bad.prod', check({ command: ['/bin/false'] }));
    await waitFor('ok healthy', () => (checks.health('ok.prod') === 'healthy' ? true : undefined));
    await waitFor('three failures', () => ((statusOf(checks, 'bad.prod')?.consecutiveFailures ?? 0) >= 3 ? true : undefined));
    assert.equal(checks.health('bad.prod'), 'unhealthy');
    assert.equal(statusOf(checks, 'bad.prod')?.lastResult?.reason, 'exit 1');
    assert.deepEqual(events.filter((e) => e.service === 'bad.prod').map((e) => e.health), ['unhealthy']);
  });

  it('a command\'s output is kept to a bounded excerpt, and a missing program fails', async () => {
    const checks = new ServiceChecks({ outputLimit: 64 });
    closers.push(() => checks.close());
    const script = 'echo starting; head -c 100000 /dev/zero | tr "\\000" x; exit 3';
    checks.set(SERVICE, check({ command: ['/bin/sh', '-c', script] }));
    checks.set('stderr.prod', check({ command: ['/bin/sh', '-c', 'echo "no connection" >&2; exit 2'] }));
    checks.set('gone.prod', check({ command: ['/nonexistent/program'] }));
    const result = await waitFor('a result', () => statusOf(checks)?.lastResult);
    assert.equal(result.reason, 'exit 3');
    assert.match(result.output ?? '', /^starting\nx+\n… \(99945 more bytes not kept\)$/);
    assert.ok((result.output ?? '').length < 200);
    const stderr = await waitFor('a result', () => statusOf(checks, 'stderr.prod')?.lastResult);
    assert.deepEqual([stderr.reason, stderr.output], ['exit 2', 'no connection']);
    const gone = await waitFor('a result', () => statusOf(checks, 'gone.prod')?.lastResult);
    assert.match(gone.reason, /cannot run \/nonexistent\/program: ENOENT/);
  });

  it('a command that outlives its timeout is killed, with its children', async () => {
    const tmp = await makeTempDir('service-checks');
    closers.push(() => tmp.remove());
    const pids = path.join(tmp.dir, 'pids');
    const started = Date.now();
    const result = await probeCommand({
      argv: ['/bin/sh', '-c', `sleep 5 & echo $$ $! > ${pids}; wait`], timeoutMs: 300, signal: new AbortController().signal,
    });
    assert.ok(Date.now() - started < 4000, 'settled before the command would have ended');
    assert.deepEqual({ ok: result.ok, reason: result.reason }, { ok: false, reason: 'timeout after 300 ms (killed)' });
    const [shell, sleeper] = (await readFile(pids, 'utf8')).trim().split(' ').map(Number);
    assert.equal(alive(shell ?? 0), false, 'the command is gone');
    await waitFor('the child reaped by init', () => (alive(sleeper ?? 0) ? undefined : true), 5000);
  });

  it('the same check set again changes nothing; a removed check makes the service healthy', async () => {
    const { checks, events } = newChecks();
    const failing = check({ command: ['/bin/false'] });
    checks.set(SERVICE, failing);
    await waitFor('two failures', () => ((statusOf(checks)?.consecutiveFailures ?? 0) >= 2 ? true : undefined));
    checks.set(SERVICE, { ...failing });
    assert.ok((statusOf(checks)?.consecutiveFailures ?? 0) >= 2, 'not restarted');
    checks.delete(SERVICE);
    assert.equal(checks.health(SERVICE), 'healthy');
    assert.deepEqual(events.map((e) => [e.health, e.detail]), [['unhealthy', 'check added: unhealthy until its first pass'], ['healthy', 'check removed']]);
    assert.deepEqual(checks.status(), []);
  });

  it('a listener that throws does not stop the checks or the other listeners', async () => {
    const { checks, events } = newChecks();
    checks.onChange(() => { throw new Error('listener bug'); });
    checks.set(SERVICE, check({ command: ['/bin/true'] }));
    await waitFor('healthy', () => (checks.health(SERVICE) === 'healthy' ? true : undefined));
    await waitFor('checked again', () => ((statusOf(checks)?.consecutivePasses ?? 0) >= 3 ? true : undefined));
    assert.deepEqual(events.map((e) => e.health), ['unhealthy', 'healthy']);
  });

  it('close() stops every timer, kills running commands and refuses new checks', async () => {
    const tmp = await makeTempDir('service-checks');
    closers.push(() => tmp.remove());
    const pidFile = path.join(tmp.dir, 'pid');
    const http = await startHttp(200);
    const processesBefore = process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap').length;
    const { checks, events } = newChecks();
    checks.set(SERVICE, check({ http: `http://127.0.0.1:${http.port}/` }));
    checks.set('slow.prod', check({ command: ['/bin/sh', '-c', `echo $$ > ${pidFile}; exec sleep 5`] }, { intervalMs: 10_000, timeoutMs: 9_000 }));
    await waitFor('healthy', () => (checks.health(SERVICE) === 'healthy' ? true : undefined));
    const pid = Number((await waitFor('the command started', () => readFile(pidFile, 'utf8').catch(() => undefined))).trim());
    assert.equal(alive(pid), true);

    const closing = Date.now();
    await checks.close();
    assert.ok(Date.now() - closing < 4000, 'close did not wait for the command to end by itself');
    assert.equal(alive(pid), false, 'the running command was killed and reaped');
    // The process handle closes a turn of the event loop after the exit.
    await waitFor('no process handle left', () => (process.getActiveResourcesInfo().filter((r) => r === 'ProcessWrap').length === processesBefore ? true : undefined), 2000);
    const answered = http.answered;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(http.answered, answered, 'no check ran after close');
    assert.equal(events.filter((e) => e.service === 'slow.prod').length, 1, 'no change reported by close');
    assert.throws(() => checks.set(SERVICE, check({ command: ['/bin/true'] })), (err) => isCausewayError(err, 'CW_CLOSED'));
    await checks.close();
  });

  it('refuses a bad service key or timing', () => {
    const { checks } = newChecks();
    assert.throws(() => checks.set('web', check({ command: ['/bin/true'] })), (err) => isCausewayError(err, 'CW_CONFIG_INVALID'));
    assert.throws(() => checks.set(SERVICE, check({ command: ['/bin/true'] }, { timeoutMs: 0 })), /whole positive intervalMs, timeoutMs/);
  });
});

describe('parseCheck', () => {
  const parse = (value: unknown): { check: ServiceCheck | undefined; errors: string[] } => {
    const errors: string[] = [];
    return { check: parseCheck(value, 'services[0].check', errors), errors };
  };

  it('resolves http, tcp and command checks with their defaults', () => {
    assert.deepEqual(parse({ http: 'http://localhost:8080/health?full=1' }).check, {
      kind: 'http', url: 'http://localhost:8080/health?full=1', address: '127.0.0.1', port: 8080, path: '/health?full=1',
      host: 'localhost:8080', expectStatus: undefined, intervalMs: 10_000, timeoutMs: 2_000, healthyThreshold: 2, unhealthyThreshold: 2,
    });
    assert.deepEqual(parse({ http: 'http://[::1]/', expectStatus: [200, 204] }).check, {
      kind: 'http', url: 'http://[::1]/', address: '::1', port: 80, path: '/', host: '[::1]', expectStatus: [200, 204],
      intervalMs: 10_000, timeoutMs: 2_000, healthyThreshold: 2, unhealthyThreshold: 2,
    });
    assert.deepEqual(parse({ tcp: 'localhost:5432', interval: '1s', healthyThreshold: 1, unhealthyThreshold: 5 }).check, {
      kind: 'tcp', address: '127.0.0.1', port: 5432, intervalMs: 1000, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 5,
    });
    assert.deepEqual(parse({ command: ['pg_isready', '-q'], interval: '30s', timeout: '250ms' }).check, {
      kind: 'command', argv: ['pg_isready', '-q'], intervalMs: 30_000, timeoutMs: 250, healthyThreshold: 2, unhealthyThreshold: 2,
    });
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not a mapping', 'http://127.0.0.1/', /^services\[0\]\.check: must be a mapping with one of http, tcp, command/],
    ['no kind', { interval: '10s' }, /^services\[0\]\.check: must set exactly one of http, tcp, command$/],
    ['two kinds', { http: 'http://127.0.0.1/', tcp: '127.0.0.1:80' }, /^services\[0\]\.check: must set exactly one of http, tcp, command \(it sets http and tcp\)$/],
    ['unknown field', { tcp: '127.0.0.1:80', intervall: '5s' }, /^services\[0\]\.check\.intervall: unknown field \(did you mean "interval"\?\)$/],
    ['not a URL', { http: 'localhost:8080/health' }, /^services\[0\]\.check\.http: .*https?:|^services\[0\]\.check\.http: .* is not/],
    ['https', { http: 'https://127.0.0.1/health' }, /^services\[0\]\.check\.http: https: is not supported/],
    ['a host name', { http: 'http://db.internal/health' }, /^services\[0\]\.check\.http: "db\.internal" is not an IP address or localhost/],
    ['credentials', { http: 'http://u:p@127.0.0.1/' }, /^services\[0\]\.check\.http: must not carry a user or password$/],
    ['expectStatus out of range', { http: 'http://127.0.0.1/', expectStatus: [200, 700] }, /^services\[0\]\.check\.expectStatus: must be a status code from 100 to 599/],
    ['expectStatus without http', { tcp: '127.0.0.1:80', expectStatus: 200 }, /^services\[0\]\.check\.expectStatus: applies to http checks only$/],
    ['tcp without a port', { tcp: '127.0.0.1' }, /^services\[0\]\.check\.tcp: "127\.0\.0\.1" is not host:port$/],
    ['tcp to a name', { tcp: 'db.internal:5432' }, /^services\[0\]\.check\.tcp: "db\.internal" is not an IP address or localhost/],
    ['tcp port 0', { tcp: '127.0.0.1:0' }, /^services\[0\]\.check\.tcp: port 0/],
    ['command as a string', { command: 'pg_isready -q' }, /^services\[0\]\.check\.command: must be a list of 1 to 64 strings/],
    ['empty command', { command: [] }, /^services\[0\]\.check\.command: must be a list/],
    ['a number in a command', { command: ['/bin/sleep', 5] }, /^services\[0\]\.check\.command\[1\]: must be a string/],
    ['a relative program', { command: ['./check.sh'] }, /^services\[0\]\.check\.command\[0\]: "\.\/check\.sh" must be an absolute path or a program name/],
    ['bad interval', { tcp: '127.0.0.1:80', interval: 'often' }, /^services\[0\]\.check\.interval: must be a duration/],
    ['interval too short', { tcp: '127.0.0.1:80', interval: '10ms' }, /^services\[0\]\.check\.interval: must be a duration .* from 100 to 86400000$/],
    ['timeout not below interval', { tcp: '127.0.0.1:80', interval: '2s', timeout: '2s' }, /^services\[0\]\.check\.timeout: 2s must be shorter than the interval \(2000 ms\)$/],
    ['zero threshold', { tcp: '127.0.0.1:80', healthyThreshold: 0 }, /^services\[0\]\.check\.healthyThreshold: must be a whole number from 1 to 100$/],
    ['fractional threshold', { tcp: '127.0.0.1:80', unhealthyThreshold: 1.5 }, /^services\[0\]\.check\.unhealthyThreshold: must be a whole number from 1 to 100$/],
  ];
  for (const [name, value, message] of bad) {
    it(`refuses ${name}`, () => {
      const { check: parsed, errors } = parse(value);
      assert.equal(parsed, undefined);
      assert.ok(errors.some((e) => message.test(e)), `expected ${String(message)} in ${JSON.stringify(errors)}`);
    });
  }

  it('names every problem in one pass', () => {
    const { errors } = parse({ tcp: 'nowhere', timeout: 'soon', unhealthyThreshold: -1 });
    assert.equal(errors.length, 3, JSON.stringify(errors));
  });
});

after(async () => { for (const close of closers.splice(0)) await close(); });
