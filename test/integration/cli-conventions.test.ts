import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { CLI, REPO_ROOT, makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

const READ_COMMANDS = [['status'], ['services'], ['peer', 'list'], ['trust', 'show']];

/** Every 8-byte run of `secret` that shows up in `output` (none may). */
function leakedRuns(secret: string, output: string): string[] {
  const runs: string[] = [];
  for (let i = 0; i + 8 <= secret.length; i += 1) {
    const run = secret.slice(i, i + 8);
    if (run.trim().length === 8 && output.includes(run)) runs.push(run);
  }
  return runs;
}

describe('CLI conventions, against a running gateway', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let gateway: GatewayProcess | undefined;
  let config: string;
  let admin: string;

  before(async () => {
    tmp = await makeTempDir('cli-conventions');
    config = path.join(tmp.dir, 'gw.yaml');
    await writeFile(config, stringify({
      cluster: 'c1', trustDomain: 'c1.test', dataDir: path.join(tmp.dir, 'data'),
      listen: { eastWest: '127.0.0.1:0', federation: '127.0.0.1:0', outbound: '127.0.0.1:0', admin: '127.0.0.1:0', identity: '127.0.0.1:0' },
      services: [{ name: 'one', namespace: 'demo', ports: [{ name: 'http', port: 80 }], endpoints: [{ address: '127.0.0.1', ports: { http: 9 }, identity: 'spiffe://c1.test/ns/demo/sa/one' }] }],
    }));
    gateway = await spawnGateway(config, { logFile: path.join(tmp.dir, 'gw.log') });
    admin = gateway.listeners.admin;
  });

  after(async () => {
    await gateway?.stop();
    await tmp?.remove();
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `causeway ${version}\n`);
    }
  });

  it('-o json, --output json and --json print JSON on every read command; -o table is the default', async () => {
    for (const command of READ_COMMANDS) {
      for (const flags of [['-o', 'json'], ['--output', 'json'], ['--json']]) {
        const result = await runCli([...command, '--admin', admin, ...flags]);
        assert.equal(result.code, 0, `${command.join(' ')} ${flags.join(' ')}: ${result.stderr}`);
        assert.equal(typeof JSON.parse(result.stdout), 'object', command.join(' '));
      }
      const table = await runCli([...command, '--admin', admin, '-o', 'table']);
      assert.equal(table.code, 0, table.stderr);
      assert.throws(() => JSON.parse(table.stdout), command.join(' '));
    }
  });

  it('under JSON output an error is one JSON object {code, message} on stderr, with the same exit code', async () => {
    const cases: Array<{ args: string[]; code: string; exit: number }> = [
      { args: ['status', '--admin', '127.0.0.1:9', '-o', 'json'], code: 'CW_ADMIN_UNREACHABLE', exit: 1 },
      { args: ['frobnicate', '--json'], code: 'CW_USAGE', exit: 2 },
      { args: ['services', '--colour', '-o', 'json'], code: 'CW_USAGE', exit: 2 },
      { args: ['status', '-o', 'yaml', '--json'], code: 'CW_USAGE', exit: 2 },
      { args: ['peer', 'token', '--admin', admin, '--json'], code: 'CW_ADMIN_UNAUTHORIZED', exit: 1 },
    ];
    for (const { args, code, exit } of cases) {
      const result = await runCli(args, { env: { ...process.env, CAUSEWAY_ADMIN_TOKEN: '' } });
      assert.equal(result.code, exit, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      const error = JSON.parse(result.stderr) as { code: string; message: string };
      assert.equal(error.code, code, args.join(' '));
      assert.equal(typeof error.message, 'string');
    }
  });

  it('--admin takes host:port without a scheme; anything unparsable is a usage error naming the flag', async () => {
    const plain = await runCli(['status', '--admin', admin]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^gateway {3}spiffe:\/\/c1\.test\/gateway\/gateway/);
    const env = await runCli(['services'], { env: { ...process.env, CAUSEWAY_ADMIN: admin } });
    assert.equal(env.code, 0, env.stderr);
    const bad = await runCli(['status', '--admin', 'admin.local:15000']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^causeway: error CW_USAGE: --admin: "admin\.local" is not an IP address/);
  });

  it('refuses extra arguments with CW_USAGE and exit code 2', async () => {
    const target = ['--admin', admin];
    for (const args of [['status', 'now', ...target], ['services', 'one.demo', ...target], ['peer', 'list', 'x', ...target],
      ['trust', 'show', 'x', ...target], ['reload', 'x', ...target], ['peer', 'remove', 'a', 'b', ...target], ['gateway', '--config', config, 'extra']]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^causeway: error CW_USAGE: unexpected argument "/, args.join(' '));
    }
  });

  it('ends quietly when the reader of its output goes away (EPIPE)', async () => {
    const child = spawn(process.execPath, [CLI, 'trust', 'show', '--admin', admin], { stdio: ['ignore', 'pipe', 'pipe'] });
    // `| head -0`: the reading end is closed before the CLI writes its first line.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });

  it('causeway reload applies a changed config and says what changed', async () => {
    const doc = parse(await readFile(config, 'utf8')) as { services: Array<Record<string, unknown>> };
    doc.services.push({ name: 'two', namespace: 'demo', ports: [{ name: 'http', port: 80 }], endpoints: [{ address: '127.0.0.1', ports: { http: 10 }, identity: 'spiffe://c1.test/ns/demo/sa/two' }] });
    await writeFile(config, stringify(doc));
    const result = await runCli(['reload', '--config', config]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'config reloaded; changed: services\n');
    const listed = await runCli(['services', '--config', config, '-o', 'json']);
    assert.ok((JSON.parse(listed.stdout) as { services: Array<{ key: string }> }).services.some((s) => s.key === 'two.demo'));
    const again = await runCli(['reload', '--config', config, '-o', 'json']);
    assert.deepEqual(JSON.parse(again.stdout), { changed: [] });
  });

  it('a --token-file that is not an admin token (a PEM key, a YAML file) exits 2 and shows no byte of it', async () => {
    const pem = path.join(tmp.dir, 'ca.key');
    await writeFile(pem, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const yaml = path.join(tmp.dir, 'secrets.yaml');
    await writeFile(yaml, 'database:\n  password: hunter2-correct-horse\n  user: billing-svc\n');
    for (const file of [pem, yaml]) {
      const secret = await readFile(file, 'utf8');
      for (const args of [['peer', 'token', '--admin', admin], ['peer', 'token', '--config', config], ['status', '--admin', admin, '-o', 'json']]) {
        const result = await runCli([...args, '--token-file', file]);
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, /CW_USAGE/);
        assert.ok(result.stderr.includes(file), 'the message names the file');
        assert.deepEqual(leakedRuns(secret, result.stdout + result.stderr), [], args.join(' '));
      }
    }
  });
});
