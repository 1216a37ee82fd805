// Issue 12, "Tests that must exist": no secret (token, key material) appears in any log line
// during a run that exercises peering, joins, rotation and admin writes. Two gateway processes
// and two agents at the most verbose log level the configs allow, with the access log on: B
// mints a peering token that A redeems; A mints join tokens (CLI and POST) and an agent joins
// with one, a second agent replays it and is refused; requests cross both gateways (one from
// the VM, one carrying an app's credentials); both CAs rotate; policy apply and reload; writes
// with wrong bearer tokens are refused; A deletes the peer, and B redeems a token A minted by
// POST, after a forged copy of it is refused. Every secret the run produced (key files are read
// as the run goes) is then looked for in every line of every log and every CLI output.
import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { proxyGet, spawnAgent, spawnGateway, startEchoBackend, writeDemoConfigs, type AgentProcess, type GatewayProcess } from '../../gateway/index.js';
import { DEMO_VM, writeDemoAgentConfig } from '../../gateway/cli/demo-setup.js';
import { formatToken } from '../../federation/peering/index.js';
import { startVmApp, type VmApp } from '../helpers/agent-world.js';
import { RawConnection } from '../helpers/http1-raw.js';
import { FIXTURES, makeTempDir } from '../helpers/paths.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { getJson, waitFor } from '../helpers/wait-for.js';

type Kind = 'peering token' | 'join token' | 'token secret' | 'admin token' | 'wrong admin token' | 'private key' | 'app credential';

interface Secret {
  kind: Kind;
  /** Where it came from, for a failure message (never the secret itself). */
  label: string;
  /** The forms a log could show it in, each matched by its WINDOW-character pieces. */
  forms: string[];
}

/**
 * Every secret here is at least 32 characters in every form, and a log line is searched for
 * every 32-character piece of every form: a secret logged in full, or cut short, or a PEM
 * key logged a few lines at a time, shows at least one such piece. 32 characters of base64
 * are 192 bits: no log line holds one by chance.
 */
const WINDOW = 32;

const B64URL_SECRET = /^[A-Za-z0-9_-]+$/;

/** A token's text, and its one-time secret (payload field `secret`) as base64url, base64 and hex. */
function tokenSecrets(kind: 'peering token' | 'join token', label: string, text: string): Secret[] {
  const [, payload] = text.split('.');
  const secret = (JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { secret?: unknown }).secret;
  assert.ok(typeof secret === 'string' && B64URL_SECRET.test(secret), `${label}: no secret in the payload`);
  const bytes = Buffer.from(secret, 'base64url');
  return [
    { kind, label, forms: [text] },
    { kind: 'token secret', label: `${label} (its secret)`, forms: [secret, bytes.toString('base64'), bytes.toString('hex')] },
  ];
}

/**
 * The forms of a private key: its PEM body (base64, as in the file and as base64url), its
 * private members (JWK d, p, q, dp, dq, qi) in base64url and hex. The body's pieces are kept
 * only where they encode bytes of a private member: the rest of a key file (algorithm
 * identifiers, the public key) is public and may rightly appear beside a certificate, and
 * must not be mistaken for a leak. Every piece kept is a leak of secret bits.
 */
function keySecret(label: string, pem: string): Secret & { pieces: string[] } {
  const key = createPrivateKey(pem);
  const jwk = key.export({ format: 'jwk' }) as Record<string, unknown>;
  const members = ['d', 'p', 'q', 'dp', 'dq', 'qi'].map((m) => jwk[m]).filter((v): v is string => typeof v === 'string');
  assert.ok(members.length > 0, `${label}: no private member in the key`);
  const body = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '');
  const der = Buffer.from(body, 'base64');
  const privateBytes = new Uint8Array(der.length);
  for (const member of members) {
    const bytes = Buffer.from(member, 'base64url');
    const at = der.indexOf(bytes);
    assert.ok(at >= 0, `${label}: a private member is not in the key's DER`);
    privateBytes.fill(1, at, at + bytes.length);
  }
  const pieces: string[] = [];
  for (const text of [body, body.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')]) {
    for (let i = 0; i + WINDOW <= text.length; i += 1) {
      // Characters [i, i+WINDOW) of base64 carry bits [6i, 6(i+WINDOW)): bytes [floor(6i/8), ceil(6(i+WINDOW)/8)).
      if (privateBytes.subarray(Math.floor((i * 3) / 4), Math.ceil(((i + WINDOW) * 3) / 4)).includes(1)) pieces.push(text.slice(i, i + WINDOW));
    }
  }
  const forms = members.flatMap((m) => [m, Buffer.from(m, 'base64url').toString('hex')]);
  return { kind: 'private key', label, forms, pieces };
}

/** Every PEM private key in the files of `dir` (recursively), by file. */
async function privateKeysIn(dir: string): Promise<Array<{ file: string; pem: string }>> {
  const found: Array<{ file: string; pem: string }> = [];
  for (const name of (await readdir(dir, { recursive: true })).map(String)) {
    const file = path.join(dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue; // a directory, or a file a gateway just replaced
    }
    const pems = text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g) ?? [];
    // A key file in another format would be skipped silently otherwise: say so instead.
    if (/(key\.pem|\.key)$/.test(name)) assert.ok(pems.length > 0, `${file} is named as a key but holds no PEM private key`);
    for (const pem of pems) found.push({ file, pem });
  }
  return found;
}

interface AdminAnswer {
  status: number;
  body: Record<string, unknown>;
}

async function admin(gateway: GatewayProcess, method: string, pathname: string, token: string, body?: unknown): Promise<AdminAnswer> {
  const response = await fetch(`http://${gateway.listeners.admin}${pathname}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

interface PeersAnswer {
  peers: Array<{ name: string; cluster: string; state: string }>;
}
interface TrustAnswer {
  ca: { authorities: Array<{ id: number; state: string }> };
}

describe('no secret reaches a log line: peering, joins, rotation, admin writes and requests at the most verbose level', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let backend: Awaited<ReturnType<typeof startEchoBackend>> | undefined;
  let vm: VmApp | undefined;
  let a: GatewayProcess | undefined;
  let b: GatewayProcess | undefined;
  let agent: AgentProcess | undefined;
  const secrets: Secret[] = [];
  const keyPieces = new Map<string, string>();
  const seenKeys = new Set<string>();
  /** Each log file the run wrote, by a short name. */
  const logs: Record<string, string> = {};
  /** What the CLI printed, one entry per run; `stdout` is left out where printing a token is the command's job. */
  const cliOutputs: Array<{ args: string; text: string }> = [];
  const refusedWrites: number[] = [];
  let replayRefusal = '';

  const cli = async (args: string[], options: { printsSecret?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> => {
    const result = await runCli(args, options.env === undefined ? {} : { env: options.env });
    cliOutputs.push({ args: args.join(' '), text: options.printsSecret === true ? result.stderr : `${result.stdout}\n${result.stderr}` });
    return result;
  };
  const dataDirs = (): string[] => [path.join(tmp.dir, 'cluster-a'), path.join(tmp.dir, 'cluster-b'), path.join(tmp.dir, DEMO_VM.host), path.join(tmp.dir, 'replay', DEMO_VM.host)];
  /** Keys come and go (rotation adds CA keys): they are read several times, each kept once. */
  const collectKeys = async (): Promise<void> => {
    for (const dir of dataDirs()) {
      const keys = await privateKeysIn(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
      for (const { file, pem } of keys) {
        if (seenKeys.has(pem)) continue;
        seenKeys.add(pem);
        const key = keySecret(`private key ${path.relative(tmp.dir, file)}`, pem);
        secrets.push({ kind: key.kind, label: key.label, forms: key.forms });
        for (const piece of key.pieces) keyPieces.set(piece, key.label);
      }
    }
  };
  const peersOf = (g: GatewayProcess): Promise<PeersAnswer> => getJson<PeersAnswer>(`http://${g.listeners.admin}/v1/peers`);
  const trustOf = (g: GatewayProcess): Promise<TrustAnswer> => getJson<TrustAnswer>(`http://${g.listeners.admin}/v1/trust`);
  /** Both directions: each gateway sees its peering with the other connected. */
  const linksUp = async (what: string): Promise<void> => {
    for (const [side, other] of [[a!, 'cluster-b'], [b!, 'cluster-a']] as const) {
      await waitFor(`${what}: ${other} connected`, async () => ((await peersOf(side)).peers.find((p) => p.cluster === other)?.state === 'connected' ? true : undefined), 30_000);
    }
  };

  before(async () => {
    tmp = await makeTempDir('no-secrets');
    backend = await startEchoBackend('cluster-b');
    vm = await startVmApp('billing-vm');
    const files = await writeDemoConfigs(tmp.dir, backend.port, true);
    for (const side of ['a', 'b'] as const) {
      const config = parse(await readFile(files[side], 'utf8')) as Record<string, unknown>;
      // trace: the most verbose level (validate-config.ts LOG_LEVELS), so every log statement runs.
      config.logLevel = 'trace';
      logs[`${side}-access`] = path.join(tmp.dir, `${side}-access.log`);
      config.telemetry = { accessLog: { path: logs[`${side}-access`] } };
      // A short publish window, so the rotated CAs sign (and issue new SVIDs) within the run.
      config.trust = { publishWindow: '2s', bundleRefreshHint: '2s' };
      await writeFile(files[side], stringify(config));
      logs[side] = path.join(tmp.dir, `${side}.log`);
    }
    b = await spawnGateway(files.b, { logFile: logs.b! });
    a = await spawnGateway(files.a, { logFile: logs.a! });
    const adminToken = { a: '', b: '' };
    for (const side of ['a', 'b'] as const) {
      adminToken[side] = (await readFile(path.join(tmp.dir, `cluster-${side}`, 'admin.token'), 'utf8')).trim();
      secrets.push({ kind: 'admin token', label: `admin token of ${side}`, forms: [adminToken[side]] });
    }
    await collectKeys();

    // Peering: B's token, redeemed by A; the link is up when each side sees the other connected.
    const minted = await cli(['peer', 'token', '--config', files.b], { printsSecret: true });
    assert.equal(minted.code, 0, minted.stderr);
    const peeringToken = minted.stdout.trim();
    secrets.push(...tokenSecrets('peering token', 'peering token of b (CLI)', peeringToken));
    const added = await cli(['peer', 'add', peeringToken, '--config', files.a]);
    assert.equal(added.code, 0, added.stderr);
    await linksUp('the link up');
    await waitFor('echo.demo reachable from A', async () => ((await proxyGet(a!.listeners.outbound, 'http://echo.demo:8080/warm').catch(() => undefined))?.status === 200 ? true : undefined), 30_000);

    // A join: a token by the CLI that the agent joins with, one by POST; then a replay of the first.
    const joinToken = await cli(['token', 'create', '--identity', DEMO_VM.identity, '--agent', DEMO_VM.host, '--ttl', '10m', '--config', files.a], { printsSecret: true });
    assert.equal(joinToken.code, 0, joinToken.stderr);
    secrets.push(...tokenSecrets('join token', 'join token of a (CLI)', joinToken.stdout.trim()));
    const joinByPost = await admin(a, 'POST', '/v1/join-tokens', adminToken.a, { identity: DEMO_VM.identity, ttlSeconds: 600 });
    assert.equal(joinByPost.status, 201, JSON.stringify(joinByPost.body));
    secrets.push(...tokenSecrets('join token', 'join token of a (POST)', String(joinByPost.body.token)));
    const tokenFile = path.join(tmp.dir, 'join-token');
    await writeFile(tokenFile, joinToken.stdout.trim(), { mode: 0o600 });
    const agentConfig = async (dir: string): Promise<string> => {
      const file = await writeDemoAgentConfig(dir, { appPort: vm!.port, joinTokenFile: tokenFile, gatewayOutbound: a!.listeners.outbound, ephemeral: true });
      const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      config.logLevel = 'trace';
      await writeFile(file, stringify(config));
      return file;
    };
    logs.agent = path.join(tmp.dir, 'agent.log');
    agent = await spawnAgent(await agentConfig(tmp.dir), { logFile: logs.agent });
    await waitFor('the agent connected at A', async () => {
      const answer = await getJson<{ agents: Array<{ agent: string; state: string }> }>(`http://${a!.listeners.admin}/v1/agents`);
      return answer.agents.some((x) => x.agent === DEMO_VM.identity && x.state === 'connected') ? true : undefined;
    }, 30_000);
    await mkdir(path.join(tmp.dir, 'replay'));
    logs['replay-agent'] = path.join(tmp.dir, 'replay-agent.log');
    const replay = await spawnAgent(await agentConfig(path.join(tmp.dir, 'replay')), { logFile: logs['replay-agent'] }).then(
      async (running) => {
        await running.kill();
        return undefined;
      },
      (err: Error) => err.message,
    );
    assert.ok(replay !== undefined, 'an agent joined with a join token that was already used');
    replayRefusal = replay;
    await collectKeys();

    // Requests: from A's side, from the VM through its agent, and one carrying an app's credentials.
    for (const url of ['http://echo.demo:8080/one', 'http://echo.demo:8080/two']) {
      assert.equal((await proxyGet(a.listeners.outbound, url)).status, 200);
    }
    assert.equal((await proxyGet(agent.runtime.outbound!, 'http://echo.demo:8080/from-vm')).status, 200);
    const credentials = { authorization: randomBytes(32).toString('base64url'), cookie: randomBytes(32).toString('base64url') };
    secrets.push({ kind: 'app credential', label: 'Authorization of a proxied request', forms: [credentials.authorization] });
    secrets.push({ kind: 'app credential', label: 'Cookie of a proxied request', forms: [credentials.cookie] });
    const outbound = a.listeners.outbound;
    const connection = await RawConnection.open(Number(outbound.slice(outbound.lastIndexOf(':') + 1)), outbound.slice(0, outbound.lastIndexOf(':')));
    connection.write(`GET http://echo.demo:8080/with-credentials HTTP/1.1\r\nHost: echo.demo:8080\r\nAuthorization: Bearer ${credentials.authorization}\r\n`
      + `Cookie: session=${credentials.cookie}\r\nConnection: close\r\n\r\n`);
    assert.equal((await connection.readResponse()).status, 200);
    connection.destroy();

    // Rotation of both CAs, until the new authorities sign.
    for (const file of [files.a, files.b]) {
      const rotated = await cli(['trust', 'rotate', '--config', file]);
      assert.equal(rotated.code, 0, rotated.stderr);
    }
    await waitFor('both new authorities to sign', async () => {
      const states = [...(await trustOf(a!)).ca.authorities, ...(await trustOf(b!)).ca.authorities].map((x) => x.state);
      return states.filter((s) => s === 'active').length === 2 && !states.includes('prepared') ? true : undefined;
    }, 30_000);
    await collectKeys();

    // Admin writes: a policy set, a reload; then the same kinds of writes with wrong tokens.
    const applied = await cli(['policy', 'apply', '-f', path.join(FIXTURES, 'policies', 'dev-off-prod.yaml'), '--config', files.a]);
    assert.equal(applied.code, 0, applied.stderr);
    const reloaded = await cli(['reload', '--config', files.b]);
    assert.equal(reloaded.code, 0, reloaded.stderr);
    const wrong = (): string => {
      // The shape of a real admin token (ensureAdminToken), so nothing refuses it by its look alone.
      const token = randomBytes(32).toString('base64url');
      secrets.push({ kind: 'wrong admin token', label: `wrong admin token #${secrets.filter((s) => s.kind === 'wrong admin token').length + 1}`, forms: [token] });
      return token;
    };
    const writes: Array<[GatewayProcess, string, string, unknown]> = [
      [a, 'POST', '/v1/peering/token', { ttlSeconds: 60 }],
      [a, 'POST', '/v1/join-tokens', { identity: DEMO_VM.identity, ttlSeconds: 60 }],
      [b, 'POST', '/v1/trust/rotate', undefined],
      [b, 'POST', '/v1/reload', undefined],
      [b, 'DELETE', '/v1/peers/cluster-a', undefined],
      [a, 'DELETE', '/v1/policies/AccessPolicy/classes', undefined],
    ];
    for (const [gateway, method, pathname, body] of writes) refusedWrites.push((await admin(gateway, method, pathname, wrong(), body)).status);
    const wrongFile = path.join(tmp.dir, 'wrong.token');
    await writeFile(wrongFile, `${wrong()}\n`, { mode: 0o600 });
    const byFile = await cli(['peer', 'token', '--config', files.b, '--token-file', wrongFile]);
    const byEnv = await cli(['reload', '--admin', a.listeners.admin], { env: { ...process.env, CAUSEWAY_ADMIN_TOKEN: wrong() } });
    for (const refused of [byFile, byEnv]) {
      assert.notEqual(refused.code, 0, refused.stdout);
      assert.match(refused.stderr, /CW_ADMIN_UNAUTHORIZED/);
    }

    // The used peering token again (A refuses it), then the peer removed by DELETE; then the
    // other direction: B redeems A's token, first forged with a wrong secret (re-MACed, so only
    // A's check of the secret can refuse it), then the real one.
    const again = await cli(['peer', 'add', peeringToken, '--config', files.a]);
    assert.notEqual(again.code, 0, 'a used peering token was accepted again');
    const name = (await peersOf(a)).peers.find((p) => p.cluster === 'cluster-b')?.name;
    assert.ok(name !== undefined, 'A has no peer for cluster-b');
    const removed = await admin(a, 'DELETE', `/v1/peers/${encodeURIComponent(name)}`, adminToken.a);
    assert.equal(removed.status, 204, JSON.stringify(removed.body));
    await waitFor('B to see the peering removed', async () => ((await peersOf(b!)).peers.find((p) => p.cluster === 'cluster-a')?.state === 'removed' ? true : undefined), 20_000);
    // Minted after the rotation: a token pins the bundle of its time, and A now signs with the new root.
    const byPost = await admin(a, 'POST', '/v1/peering/token', adminToken.a, { ttlSeconds: 600 });
    assert.equal(byPost.status, 201, JSON.stringify(byPost.body));
    const tokenOfA = String(byPost.body.token);
    secrets.push(...tokenSecrets('peering token', 'peering token of a (POST)', tokenOfA));
    const payload = JSON.parse(Buffer.from(tokenOfA.split('.')[1] ?? '', 'base64url').toString('utf8')) as { secret: string };
    payload.secret = randomBytes(32).toString('base64url');
    const forged = formatToken(Buffer.from(JSON.stringify(payload), 'utf8'), payload.secret);
    secrets.push(...tokenSecrets('peering token', 'forged peering token of a (a wrong secret)', forged));
    const refused = await cli(['peer', 'add', forged, '--config', files.b]);
    assert.notEqual(refused.code, 0, 'a peering token with a wrong secret was redeemed');
    const back = await cli(['peer', 'add', tokenOfA, '--config', files.b]);
    assert.equal(back.code, 0, back.stderr);
    await linksUp('the link up again');

    // Stopped here rather than in after(), so that every log is complete (shutdown lines
    // included) and flushed before it is read; after() only catches a run that failed midway.
    await collectKeys();
    await agent.stop();
    await Promise.all([a.stop(), b.stop()]);
    await collectKeys();
  });

  after(async () => {
    await agent?.kill();
    await Promise.all([a?.kill(), b?.kill()]);
    await backend?.close();
    await vm?.close();
    await tmp?.remove();
  });

  const lines = async (): Promise<Array<{ where: string; line: string }>> => {
    const all: Array<{ where: string; line: string }> = [];
    for (const [name, file] of Object.entries(logs)) {
      (await readFile(file, 'utf8')).split('\n').forEach((line, i) => all.push({ where: `${name} log line ${i + 1}`, line }));
    }
    for (const { args, text } of cliOutputs) text.split('\n').forEach((line, i) => all.push({ where: `causeway ${args.slice(0, 60)} output line ${i + 1}`, line }));
    return all;
  };
  const logText = async (name: string): Promise<string> => readFile(logs[name]!, 'utf8');

  it('the run produced every kind of secret, and the wrong tokens were refused', () => {
    const count = (kind: Kind): number => secrets.filter((s) => s.kind === kind).length;
    assert.equal(count('peering token'), 3);
    assert.equal(count('join token'), 2);
    assert.equal(count('token secret'), 5);
    assert.equal(count('admin token'), 2);
    assert.equal(count('wrong admin token'), 8);
    assert.equal(count('app credential'), 2);
    const keys = secrets.filter((s) => s.kind === 'private key').map((s) => s.label);
    // Both CAs' keys, before and after the rotation, and the agent's own key.
    for (const dir of ['cluster-a', 'cluster-b']) assert.ok(keys.filter((k) => k.includes(` ${dir}/`)).length >= 2, `CA keys of ${dir}: ${keys.join(', ')}`);
    assert.ok(keys.some((k) => k.includes(` ${DEMO_VM.host}/`)), `the agent's key: ${keys.join(', ')}`);
    assert.ok(keyPieces.size > 100, `only ${keyPieces.size} pieces of key material to look for`);
    assert.deepEqual(refusedWrites, [401, 401, 401, 401, 401, 401]);
    assert.match(replayRefusal, /used|redeemed/i);
  });

  it('the logs are the run\'s: verbose, and they name what happened', async () => {
    const [logA, logB, accessA, accessB, agentLog] = await Promise.all(['a', 'b', 'a-access', 'b-access', 'agent'].map(logText));
    for (const [name, text] of [['a', logA], ['b', logB], ['agent', agentLog]] as const) {
      assert.ok(text!.split('\n').some((line) => /"level":20\b/.test(line)), `${name}'s log has no debug line: the verbose level was not in force`);
    }
    for (const expected of ['peer added (we dial it)', 'spiffe://cluster-b.causeway.test/gateway/gw-b', 'peering token created', 'join token created',
      'workload SVID issued', DEMO_VM.identity, 'new root published', 'new CA authority is now signing', 'policy set in force', 'peer removed',
      'peering redemption refused', 'peer added (it dials us)']) {
      assert.ok(logA!.includes(expected), `a's log does not mention ${expected}`);
    }
    for (const expected of ['peer added (it dials us)', 'spiffe://cluster-a.causeway.test/gateway/gw-a', 'peering token created', 'token redeemed',
      'new root published', 'config reloaded', 'peer added (we dial it)']) {
      assert.ok(logB!.includes(expected), `b's log does not mention ${expected}`);
    }
    assert.ok(agentLog!.includes('joined: SVID issued by CSR'), 'the agent\'s log does not say it joined');
    const entries = (text: string): Array<Record<string, unknown>> => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(entries(accessA!).some((e) => e.direction === 'outbound' && e.target === 'echo.demo:8080' && e.status === 200 && e.source === DEMO_VM.identity),
      'a\'s access log has no line for the VM\'s request');
    assert.ok(entries(accessB!).filter((e) => e.direction === 'inbound' && e.target === 'echo.demo:8080' && e.status === 200).length >= 4,
      'b\'s access log has fewer lines than requests it served');
    assert.ok(cliOutputs.length >= 10 && cliOutputs.some((o) => /CW_ADMIN_UNAUTHORIZED/.test(o.text)), 'the CLI outputs were not kept');
  });

  it('no line of any log or CLI output holds a secret, in full or in part', async () => {
    const pieces = new Map(keyPieces);
    for (const secret of secrets) {
      for (const form of secret.forms) {
        assert.ok(form.length >= WINDOW, `${secret.label}: a form shorter than ${WINDOW} characters`);
        for (let i = 0; i + WINDOW <= form.length; i += 1) pieces.set(form.slice(i, i + WINDOW), secret.label);
      }
    }
    const leaks: string[] = [];
    const all = await lines();
    // The sanity test above shows each log holds the run; this only guards the reading itself.
    assert.ok(all.length > 100, `only ${all.length} lines to search`);
    const pieceIn = (text: string): string | undefined => {
      for (let i = 0; i + WINDOW <= text.length; i += 1) {
        const label = pieces.get(text.slice(i, i + WINDOW));
        if (label !== undefined) return label;
      }
      return undefined;
    };
    for (const { where, line } of all) {
      // Also with JSON's escaped line breaks and all white space removed: a PEM logged as one
      // JSON string is then one run of base64 again.
      const label = pieceIn(line) ?? pieceIn(line.replace(/\\[nrt]|\s/g, ''));
      if (label !== undefined) leaks.push(`${where}: ${label}: ${line.slice(0, 400)}`);
    }
    assert.deepEqual(leaks, [], `${leaks.length} log lines hold a secret`);
  });
});
