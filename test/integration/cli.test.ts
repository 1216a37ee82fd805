import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, it } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

describe('causeway CLI usage', () => {
  it('prints help with every command and exits 0', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0);
    for (const command of ['gateway', 'peer token', 'peer add', 'peer list', 'peer remove', 'services', 'status', 'demo']) {
      assert.match(result.stdout, new RegExp(`\\n  ${command} `));
    }
  });

  it('prints per-command help', async () => {
    const result = await runCli(['peer', 'add', '--help']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: causeway peer add TOKEN/);
    assert.match(result.stdout, /--token-file FILE/);
  });

  it('exits 2 with CW_USAGE on an unknown command, an unknown flag, or a missing argument', async () => {
    for (const args of [['frobnicate'], ['status', '--colour'], ['peer', 'add'], ['gateway'], ['peer', 'token', '--ttl', 'soon']]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^causeway: error CW_USAGE: /, args.join(' '));
    }
  });

  it('exits 2 naming the file when the config cannot be read', async () => {
    const result = await runCli(['gateway', '--config', '/nonexistent/causeway.yaml']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /CW_CONFIG_READ: \/nonexistent\/causeway\.yaml: cannot read config/);
  });

  it('exits 1 with CW_LISTEN_FAILED naming the listener when its port is taken, leaving nothing running', async () => {
    const tmp = await makeTempDir('cli-listen');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const config = path.join(tmp.dir, 'gw.yaml');
      await writeFile(config, [
        'cluster: c1', 'trustDomain: c1.test', `dataDir: ${path.join(tmp.dir, 'data')}`,
        `listen: { eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:${port}", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }`,
      ].join('\n'));
      const result = await runCli(['gateway', '--config', config]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, new RegExp(`CW_LISTEN_FAILED: listen\\.outbound: cannot listen on 127\\.0\\.0\\.1:${port}: the address is already in use`));
    } finally {
      blocker.close();
      await tmp.remove();
    }
  });

  it('exits 1 with CW_ADMIN_UNREACHABLE when no gateway answers', async () => {
    const result = await runCli(['status', '--admin', 'http://127.0.0.1:1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /CW_ADMIN_UNREACHABLE: cannot reach the gateway admin API at http:\/\/127\.0\.0\.1:1/);
  });
});
