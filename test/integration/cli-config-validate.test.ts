import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

/** `causeway config validate FILE`, run as the real CLI process an operator or a CI job runs. */
describe('causeway config validate', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let dataDir: string;
  /** Writes `text` as `name` in the temp dir and returns its path. */
  const file = async (name: string, text: string): Promise<string> => {
    const at = path.join(tmp.dir, name);
    await writeFile(at, text);
    return at;
  };
  const valid = (): string => [
    'cluster: east',
    'trustDomain: east.example.org',
    `dataDir: ${dataDir}`,
    'listen: { eastWest: "0.0.0.0:15443", federation: "0.0.0.0:15012", identity: "0.0.0.0:15017" }',
    'advertise: { eastWest: "192.0.2.10:15443", federation: "192.0.2.10:15012", identity: "192.0.2.10:15017" }',
    // Files that do not exist here: the command checks the structure, the gateway the files.
    'peering:',
    `  bootstrapKeyFile: ${path.join(tmp.dir, 'absent', 'bootstrap.key')}`,
    `  peers: [{ name: west, address: "198.51.100.7:15012", credentialFile: ${path.join(tmp.dir, 'absent', 'west.credential')} }]`,
  ].join('\n');

  before(async () => {
    tmp = await makeTempDir('config-validate');
    dataDir = path.join(tmp.dir, 'data');
  });
  after(async () => { await tmp.remove(); });

  it('prints "FILE: valid" and exits 0 for a valid config, starting nothing and creating no data dir', async () => {
    const config = await file('valid.yaml', valid());
    const result = await runCli(['config', 'validate', config]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${config}: valid\n`);
    assert.equal(result.stderr, '');
    assert.equal(existsSync(dataDir), false, 'the data dir is not created');
    assert.equal(existsSync(path.join(tmp.dir, 'absent')), false, 'the files it names are not created either');
  });

  it('-o json answers {file, valid, cluster, trustDomain}', async () => {
    const config = await file('valid.yaml', valid());
    for (const flags of [['-o', 'json'], ['--json']]) {
      const result = await runCli(['config', 'validate', config, ...flags]);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { file: config, valid: true, cluster: 'east', trustDomain: 'east.example.org' });
    }
  });

  it('lists every problem of an invalid config with its path and CW_CONFIG_INVALID, and exits 2', async () => {
    const config = await file('problems.yaml', [
      'trustDomain: east.example.org',
      `dataDir: ${dataDir}`,
      'advertize: { federation: "192.0.2.10:15012" }',
      'advertise: { federation: "east-fed.example.net:15012" }',
      'peering: { peers: [{ name: west, address: "198.51.100.7:15012" }] }',
    ].join('\n'));
    const result = await runCli(['config', 'validate', config]);
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    const [first, ...rest] = result.stderr.trimEnd().split('\n');
    assert.match(first ?? '', new RegExp(`^causeway: error CW_CONFIG_INVALID: ${config}: .* \\(and 3 more\\)$`));
    // The first problem is in the message, each other one on a line of its own.
    const problems = [first ?? '', ...rest].join('\n');
    for (const expected of [
      /advertize: unknown field \(did you mean "advertise"\?\)/,
      /cluster: is required/,
      /advertise\.federation: "east-fed\.example\.net" is not an IP address \(names are never resolved\)/,
      /peering\.peers\[0\]\.credentialFile: is required/,
    ]) assert.match(problems, expected);
    assert.equal(rest.length, 3);
    for (const line of rest) assert.match(line, /^ {2}- /);
    assert.equal(existsSync(dataDir), false);
  });

  it('refuses what is not YAML, a duplicate key and a document that is not a mapping, with CW_CONFIG_INVALID', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['broken.yaml', 'cluster: east\n  trustDomain: [unclosed\n', /: not valid YAML: /],
      ['twice.yaml', `cluster: east\ncluster: west\ntrustDomain: east.example.org\ndataDir: ${dataDir}\n`, /: not valid YAML: DUPLICATE_KEY/],
      ['list.yaml', '- cluster: east\n', /: the document must be a mapping/],
      ['empty.yaml', '', /: the document must be a mapping/],
    ];
    for (const [name, text, message] of cases) {
      const config = await file(name, text);
      const result = await runCli(['config', 'validate', config]);
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^causeway: error CW_CONFIG_INVALID: ${config}`), name);
      assert.match(result.stderr, message, name);
    }
  });

  it('-o json reports a refusal as one JSON object {code, message, details} on stderr', async () => {
    const config = await file('bad-json.yaml', `cluster: East\ntrustDomain: east.example.org\ndataDir: ${dataDir}\nlogLevel: loud\n`);
    const result = await runCli(['config', 'validate', config, '-o', 'json']);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    const answer = JSON.parse(result.stderr) as { code: string; message: string; details: string[] };
    assert.equal(answer.code, 'CW_CONFIG_INVALID');
    assert.equal(answer.details.length, 2);
    assert.match(answer.details[0] ?? '', /^cluster: "East" is not a DNS-1123 label/);
    assert.match(answer.details[1] ?? '', /^logLevel: "loud" is not one of/);
  });

  it('exits 2 with CW_CONFIG_READ for a file that does not exist or cannot be read as one', async () => {
    const missing = path.join(tmp.dir, 'nowhere.yaml');
    const directory = path.join(tmp.dir, 'a-directory.yaml');
    await mkdir(directory);
    for (const config of [missing, directory]) {
      const result = await runCli(['config', 'validate', config]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`^causeway: error CW_CONFIG_READ: ${config}: cannot read config: `));
    }
  });

  it('is a usage error without FILE or with two; --help says what it checks', async () => {
    for (const args of [['config', 'validate'], ['config', 'validate', 'a.yaml', 'b.yaml']]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /^causeway: error CW_USAGE: /);
    }
    const help = await runCli(['config', 'validate', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^causeway config validate — /);
    assert.match(help.stdout, /Usage: causeway config validate FILE \[-o json\]/);
    assert.match(help.stdout, /are not read/);
    const main = await runCli(['--help']);
    assert.match(main.stdout, /\n {2}config validate +check a gateway config file/);
  });
});
