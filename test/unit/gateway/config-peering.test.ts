import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError } from '../../../registry/index.js';
import { parseConfigText } from '../../../gateway/index.js';
import { readPeeringFiles } from '../../../gateway/config/peering-files.js';
import { MINIMAL_CONFIG as MINIMAL, problemsOf } from '../../helpers/config-problems.js';
import { makeTempDir } from '../../helpers/paths.js';

const KEY = 'a'.repeat(64);
const ID = '0123456789abcdef0123456789abcdef';
const SECRET = 'f'.repeat(64);

describe('gateway config: peering', () => {
  it('is empty unless configured; paths are taken from the config file\'s directory', () => {
    assert.deepEqual(parseConfigText(MINIMAL).peering, { peers: [] });
    const config = parseConfigText(`${MINIMAL}
peering:
  bootstrapKeyFile: keys/bootstrap.key
  peers:
    - { name: cluster-b, address: "10.0.2.7:15012", credentialFile: /etc/causeway/peers/b.credential }
    - { name: cluster-c, address: "[fd00::7]:15012", credentialFile: c.credential }
`, '/etc/causeway/gateway.yaml');
    assert.deepEqual(config.peering, {
      bootstrapKeyFile: '/etc/causeway/keys/bootstrap.key',
      peers: [
        { name: 'cluster-b', address: '10.0.2.7:15012', credentialFile: '/etc/causeway/peers/b.credential' },
        { name: 'cluster-c', address: '[fd00::7]:15012', credentialFile: '/etc/causeway/c.credential' },
      ],
    });
  });

  it('names every bad field', () => {
    assert.deepEqual(problemsOf(`${MINIMAL}
peering:
  bootstrapKeyFile: ""
  peer: []
  peers:
    - { name: Cluster_B, address: "west-fed.example.net:15012", credentialFile: 7 }
    - { name: cluster-a, address: "10.0.0.1:0", credentialFile: a.credential }
    - { name: cluster-c, address: "10.0.0.3:15012", credentialFile: c.credential, extra: 1 }
    - { name: cluster-c, address: 15012, credentialFile: c2.credential }
    - { address: "10.0.0.4:15012" }
    - nope
`), [
      'peering.peer: unknown field (did you mean "peers"?)',
      'peering.bootstrapKeyFile: must be a file path (relative to the config file)',
      'peering.peers[0].name: "Cluster_B" is not a DNS-1123 label',
      'peering.peers[0].address: must be IP:port such as "10.0.2.7:15012" ("west-fed.example.net" is not an IP address (names are never resolved))',
      'peering.peers[0].credentialFile: must be a file path (relative to the config file)',
      'peering.peers[1].name: "cluster-a" is this gateway\'s own cluster',
      'peering.peers[1].address: port 0 cannot be dialled',
      'peering.peers[2].extra: unknown field',
      'peering.peers[3].name: "cluster-c" is listed twice',
      'peering.peers[3].address: must be IP:port such as "10.0.2.7:15012" (it is not a string)',
      'peering.peers[4].name: is required (the dialled gateway\'s cluster name)',
      'peering.peers[4].credentialFile: is required (the file holding its cwbt1. credential)',
      'peering.peers[5]: must be a mapping of name, address, credentialFile',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}\npeering: yes\n`), ['peering: must be a mapping of bootstrapKeyFile, peers']);
    assert.deepEqual(problemsOf(`${MINIMAL}\npeering: { peers: { name: x } }\n`), ['peering.peers: must be a list of { name, address, credentialFile }']);
  });
});

describe('peering files: the bootstrap key and credentials', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  const file = (name: string): string => path.join(tmp.dir, name);
  const write = async (name: string, text: string): Promise<string> => {
    await writeFile(file(name), text, { mode: 0o600 });
    return file(name);
  };
  const refused = async (promise: Promise<unknown>, code: string, message: RegExp): Promise<void> => {
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(isCausewayError(err), String(err));
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      return true;
    });
  };

  before(async () => {
    tmp = await makeTempDir('peering-files');
  });
  after(async () => {
    await tmp.remove();
  });

  it('reads a key (trimmed) and credentials for this gateway and the named peer', async () => {
    const key = await write('bootstrap.key', `  ${KEY}\n`);
    const cred = await write('b.credential', `cwbt1.cluster-a.cluster-b.${ID}.1900000000.${SECRET}\n`);
    const material = await readPeeringFiles({ bootstrapKeyFile: key, peers: [{ name: 'cluster-b', address: '10.0.0.2:15012', credentialFile: cred }] }, 'cluster-a');
    assert.equal(material.bootstrapKey, KEY);
    assert.deepEqual(material.peers, [{
      name: 'cluster-b', address: '10.0.0.2:15012', credential: { from: 'cluster-a', to: 'cluster-b', id: ID, exp: 1900000000, secret: SECRET },
    }]);
    assert.deepEqual(material.warnings, []);
    assert.deepEqual(await readPeeringFiles({ peers: [] }, 'cluster-a'), { peers: [], warnings: [] });
  });

  it('refuses a key file that is missing or does not hold exactly 64 hex digits, naming the file', async () => {
    const missing = file('nowhere.key');
    await refused(readPeeringFiles({ bootstrapKeyFile: missing, peers: [] }, 'cluster-a'), 'CW_CONFIG_READ',
      new RegExp(`^peering\\.bootstrapKeyFile: cannot read ${missing}`));
    for (const text of ['', 'a'.repeat(63), 'a'.repeat(65), `${'a'.repeat(62)}zz`, `${KEY}\n${KEY}`]) {
      const key = await write('bad.key', text);
      await refused(readPeeringFiles({ bootstrapKeyFile: key, peers: [] }, 'cluster-a'), 'CW_CONFIG_INVALID',
        new RegExp(`^peering\\.bootstrapKeyFile: ${key}: must hold exactly 64 hex digits`));
    }
  });

  it('refuses a credential file that is malformed, naming the file and the part', async () => {
    const cases: Array<[string, RegExp]> = [
      ['cwpt1.abc.def', /does not start with "cwbt1\."/],
      [`cwbt1.cluster-a.cluster-b.${ID}.1900000000`, /has 5 dot-separated parts, not 6/],
      [`cwbt1.Cluster-A.cluster-b.${ID}.1900000000.${SECRET}`, /from: "Cluster-A" is not a DNS-1123 label/],
      [`cwbt1.cluster-a.cluster_b.${ID}.1900000000.${SECRET}`, /to: "cluster_b" is not a DNS-1123 label/],
      [`cwbt1.cluster-a.cluster-b.${ID.toUpperCase()}.1900000000.${SECRET}`, /id: must be 32 lower-case hex digits/],
      [`cwbt1.cluster-a.cluster-b.${ID}.01900000000.${SECRET}`, /exp: must be Unix seconds in decimal/],
      [`cwbt1.cluster-a.cluster-b.${ID}.1900000000.${SECRET.slice(1)}`, /secret: must be 64 lower-case hex digits/],
    ];
    for (const [text, message] of cases) {
      const cred = await write('bad.credential', text);
      await refused(readPeeringFiles({ peers: [{ name: 'cluster-b', address: '10.0.0.2:15012', credentialFile: cred }] }, 'cluster-a'),
        'CW_TOKEN_MALFORMED', new RegExp(`^peering\\.peers\\[0\\]\\.credentialFile: ${cred}: ${message.source}`));
    }
  });

  it('refuses a credential minted for another pair, and reports every problem', async () => {
    const forY = await write('y.credential', `cwbt1.cluster-y.cluster-b.${ID}.1900000000.${SECRET}`);
    const forC = await write('c.credential', `cwbt1.cluster-a.cluster-c.${ID}.1900000000.${SECRET}`);
    await refused(readPeeringFiles({
      peers: [
        { name: 'cluster-b', address: '10.0.0.2:15012', credentialFile: forY },
        { name: 'cluster-b2', address: '10.0.0.3:15012', credentialFile: forC },
        { name: 'cluster-d', address: '10.0.0.4:15012', credentialFile: file('none.credential') },
      ],
    }, 'cluster-a'), 'CW_TOKEN_WRONG_PEER', /credential is for cluster "cluster-y" to present, and this gateway is "cluster-a" \(and 2 more\)/);
    try {
      await readPeeringFiles({ peers: [{ name: 'cluster-b2', address: '10.0.0.3:15012', credentialFile: forC }] }, 'cluster-a');
      assert.fail('accepted');
    } catch (err) {
      assert.ok(isCausewayError(err, 'CW_TOKEN_WRONG_PEER'));
      assert.match(err.message, /for dialling "cluster-c", not "cluster-b2" \(peering\.peers\[0\]\.name\)/);
    }
  });

  it('warns about a key file others can read', async () => {
    const key = await write('open.key', KEY);
    await chmod(key, 0o644);
    const { warnings } = await readPeeringFiles({ bootstrapKeyFile: key, peers: [] }, 'cluster-a');
    assert.deepEqual(warnings, [`peering.bootstrapKeyFile: ${key} is readable by others besides its owner (mode 644); 0600 is enough`]);
  });
});
