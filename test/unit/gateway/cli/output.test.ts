import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { adminBaseUrl } from '../../../../gateway/cli/admin-client.js';
import { clip, outputFormat, sniffOutputFormat } from '../../../../gateway/cli/output.js';

describe('CLI output format', () => {
  it('reads -o json|table and --json as its alias', () => {
    assert.equal(outputFormat({}), 'table');
    assert.equal(outputFormat({ output: 'json' }), 'json');
    assert.equal(outputFormat({ output: 'table' }), 'table');
    assert.equal(outputFormat({ json: true }), 'json');
    assert.equal(outputFormat({ json: true, output: 'json' }), 'json');
  });

  it('refuses an unknown format and a contradiction as usage errors', () => {
    assert.throws(() => outputFormat({ output: 'yaml' }), (err) => isCausewayError(err, 'CW_USAGE') && /"yaml" is not a format/.test(err.message));
    assert.throws(() => outputFormat({ output: 'table', json: true }), (err) => isCausewayError(err, 'CW_USAGE'));
  });

  it('finds a JSON request in raw arguments, so that a parse error is JSON too', () => {
    for (const args of [['--json'], ['-o', 'json'], ['--output', 'json'], ['--output=json'], ['-ojson'], ['status', '--bogus', '-o', 'json']]) {
      assert.equal(sniffOutputFormat(args), 'json', args.join(' '));
    }
    assert.equal(sniffOutputFormat(['-o', 'table']), 'table');
    assert.equal(sniffOutputFormat(['peer', 'add', '--', '--json']), 'table');
  });

  it('clips long free text to one line', () => {
    assert.equal(clip('short'), 'short');
    const long = `14 UNAVAILABLE: No connection established.\n Last error: ${'x'.repeat(200)}`;
    assert.equal(clip(long).length, 60);
    assert.ok(clip(long).endsWith('…'));
    assert.ok(!clip(long).includes('\n'));
  });
});

describe('--admin address', () => {
  it('accepts host:port without a scheme, and URLs', () => {
    assert.equal(adminBaseUrl('127.0.0.1:15000'), 'http://127.0.0.1:15000');
    assert.equal(adminBaseUrl('[::1]:15000'), 'http://[::1]:15000');
    assert.equal(adminBaseUrl('http://127.0.0.1:15000'), 'http://127.0.0.1:15000');
    assert.equal(adminBaseUrl('https://10.0.0.1:8443/'), 'https://10.0.0.1:8443');
  });

  it('names the flag and the expected forms for anything else', () => {
    for (const bad of ['127.0.0.1', 'admin.example:15000', 'ftp://127.0.0.1:21', 'http://', '']) {
      assert.throws(() => adminBaseUrl(bad), (err) => isCausewayError(err, 'CW_USAGE') && err.message.startsWith('--admin: '), bad);
    }
  });
});
