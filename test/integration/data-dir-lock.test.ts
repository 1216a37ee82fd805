import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { spawnGateway, type GatewayProcess } from '../../gateway/index.js';
import { readRuntimeFile } from '../../gateway/runtime-file.js';
import { makeTempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';

describe('one gateway per data dir', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  const running: GatewayProcess[] = [];
  after(async () => {
    await Promise.all(running.map((g) => g.stop()));
    await tmp?.remove();
  });

  it('refuses a second gateway on the same dir (exit 2, CW_DATA_DIR_LOCKED, holder pid), and takes over after a SIGKILL', async () => {
    tmp = await makeTempDir('data-dir-lock');
    const config = path.join(tmp.dir, 'gw.yaml');
    const dataDir = path.join(tmp.dir, 'data');
    await writeFile(config, stringify({
      cluster: 'c1', trustDomain: 'c1.test', dataDir,
      listen: { eastWest: '127.0.0.1:0', federation: '127.0.0.1:0', outbound: '127.0.0.1:0', admin: '127.0.0.1:0', identity: '127.0.0.1:0' },
    }));
    const first = await spawnGateway(config, { logFile: path.join(tmp.dir, 'first.log') });
    running.push(first);

    const second = await runCli(['gateway', '--config', config]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`^causeway: error CW_DATA_DIR_LOCKED: data dir ${dataDir} is in use by another gateway \\(pid ${first.child.pid}`));
    // The refused one touched nothing: the first gateway's runtime file is still there and its own.
    assert.equal((await readRuntimeFile(dataDir))?.pid, first.child.pid);
    const status = await runCli(['status', '--config', config]);
    assert.equal(status.code, 0, status.stderr);

    await first.kill();
    const third = await spawnGateway(config, { logFile: path.join(tmp.dir, 'third.log') });
    running.push(third);
    assert.equal((await readRuntimeFile(dataDir))?.pid, third.child.pid);
  });
});
