import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

  it('exits 1 with CW_ADMIN_UNREACHABLE when no gateway answers', async () => {
    const result = await runCli(['status', '--admin', 'http://127.0.0.1:1']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /CW_ADMIN_UNREACHABLE: cannot reach the gateway admin API at http:\/\/127\.0\.0\.1:1/);
  });
});
