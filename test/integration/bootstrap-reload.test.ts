import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError, silentLogger } from '../../registry/index.js';
import { Gateway, loadConfig } from '../../gateway/index.js';
import { expiresIn, mintCredential, mintKey } from '../helpers/bootstrap-mint.js';
import { inProcessConfig } from '../helpers/in-process-config.js';
import { makeTempDir } from '../helpers/paths.js';

/** A reload re-reads the peering files, even when the config text is unchanged, and refuses bad ones whole. */
describe('peering files on config reload', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let gateway: Gateway | undefined;
  let configFile = '';
  const keyFile = (): string => path.join(tmp.dir, 'bootstrap.key');
  const credentialFile = (): string => path.join(tmp.dir, 'cluster-z.credential');

  before(async () => {
    tmp = await makeTempDir('bootstrap-reload');
    configFile = path.join(tmp.dir, 'gateway.yaml');
    await writeFile(configFile, inProcessConfig(tmp.dir, 'cluster-a'));
    gateway = await Gateway.start(await loadConfig(configFile), { configFile, logger: silentLogger() });
  });

  after(async () => {
    await gateway?.close();
    await tmp?.remove();
  });

  it('takes up a key and a peer added by a reload; a broken key file is refused and the key in force stays', async () => {
    const g = gateway!;
    assert.equal(g.peers.acceptsBootstrap(), false);
    await writeFile(keyFile(), mintKey(), { mode: 0o600 });
    await writeFile(credentialFile(), mintCredential({ keyHex: mintKey(), from: 'cluster-a', to: 'cluster-z', exp: expiresIn(600) }), { mode: 0o600 });
    await writeFile(configFile, inProcessConfig(tmp.dir, 'cluster-a', `
peering:
  bootstrapKeyFile: ${keyFile()}
  peers: [{ name: cluster-z, address: "127.0.0.1:9", credentialFile: ${credentialFile()} }]
`));
    const { changed } = await g.reload();
    assert.deepEqual(changed, ['peering']);
    assert.equal(g.peers.acceptsBootstrap(), true);
    assert.deepEqual(g.bootstrap.status().map((s) => [s.name, s.state]), [['cluster-z', 'pending']]);

    // Same config text, rewritten key file: re-read, and refused whole.
    await writeFile(keyFile(), 'abc', { mode: 0o600 });
    await assert.rejects(g.reload(), (err: unknown) => isCausewayError(err, 'CW_CONFIG_INVALID') && /peering\.bootstrapKeyFile: .*must hold exactly 64 hex digits/.test(err.message));
    assert.equal(g.peers.acceptsBootstrap(), true);
    assert.equal(g.bootstrap.status().length, 1);

    // The peer dropped from the config stops being tried.
    await writeFile(keyFile(), mintKey(), { mode: 0o600 });
    await writeFile(configFile, inProcessConfig(tmp.dir, 'cluster-a', `peering: { bootstrapKeyFile: ${keyFile()} }\n`));
    await g.reload();
    assert.deepEqual(g.bootstrap.status(), []);
  });
});
