import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, makeTempDir } from '../../helpers/paths.js';
import { parseUnit } from '../../helpers/systemd-unit.js';

/** terraform/modules/gateway-vm/files: the agent's systemd unit and its installer. */
const FILES = path.join(REPO_ROOT, 'terraform', 'modules', 'gateway-vm', 'files');
const INSTALL = path.join(FILES, 'install.sh');
const UNIT = path.join(FILES, 'causeway-agent.service');
const TOKEN = 'cwjt1.eyJncmFudCI6InNwaWZmZTovL3gifQ.bWFjLWJ5dGVz';

/** The installer under /bin/sh with node on PATH; never without --root (that would install for real). */
function install(args: string[], input = '', PATH = `${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`): SpawnSyncReturns<string> {
  assert.ok(args.includes('--root') || args.includes('--help'), 'tests run install.sh with --root only');
  return spawnSync('/bin/sh', [INSTALL, ...args], { input, encoding: 'utf8', timeout: 30_000, env: { ...process.env, PATH } });
}

const modeOf = (file: string): string => (statSync(file).mode & 0o7777).toString(8).padStart(4, '0');

describe('causeway-agent.service', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service');
  const value = (key: string): string | undefined => service?.get(key)?.at(-1);

  it('is sections of key=value lines: Unit, Service, Install', () => {
    assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
    assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
    assert.equal(unit.get('Unit')?.get('After')?.[0], 'network-online.target');
  });

  it('runs causeway agent as the causeway user, restarted on failure, stopped by SIGTERM with time to deregister', () => {
    assert.match(value('ExecStart') ?? '', /^\/\S+\/causeway agent --config \/etc\/causeway\/agent\.yaml$/);
    const expected: Record<string, string> = {
      Type: 'simple', User: 'causeway', Group: 'causeway', Restart: 'on-failure', KillSignal: 'SIGTERM', StateDirectory: 'causeway',
      StateDirectoryMode: '0700', UMask: '0077',
    };
    for (const [key, want] of Object.entries(expected)) assert.equal(value(key), want, key);
    assert.match(value('RestartSec') ?? '', /^\d+s$/);
    assert.match(value('TimeoutStopSec') ?? '', /^\d+s$/);
  });

  it('is sandboxed: no capabilities, no new privileges, a read-only system but the state directory', () => {
    const expected: Record<string, string> = {
      NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes', PrivateTmp: 'yes', ReadWritePaths: '/var/lib/causeway',
      CapabilityBoundingSet: '', AmbientCapabilities: '',
    };
    for (const [key, want] of Object.entries(expected)) assert.equal(value(key), want, key);
    assert.equal(service?.has('MemoryDenyWriteExecute'), false, 'V8 needs W+X pages');
  });

  it('passes systemd-analyze verify, where it is installed', async (t) => {
    if (spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status !== 0) {
      t.skip('systemd-analyze is not installed');
      return;
    }
    const tmp = await makeTempDir('vm-unit');
    try {
      // The same unit with an ExecStart that exists here: verify checks the binary too.
      const copy = path.join(tmp.dir, 'causeway-agent.service');
      writeFileSync(copy, readFileSync(UNIT, 'utf8').replace(/^ExecStart=\S+/m, 'ExecStart=/bin/true'));
      const run = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
      const aboutUnit = `${run.stdout}${run.stderr}`.split('\n').filter((l) => l.includes('causeway-agent.service'));
      assert.deepEqual(aboutUnit, [], 'no warning about the unit (unknown keys, bad values)');
      assert.equal(run.status, 0, run.stderr);
    } finally {
      await tmp.remove();
    }
  });
});

describe('install.sh', () => {
  let tmp: { dir: string; remove(): Promise<void> };
  before(async () => { tmp = await makeTempDir('vm-install'); });
  after(async () => { await tmp.remove(); });

  it('is valid sh (sh -n)', () => {
    const run = spawnSync('/bin/sh', ['-n', INSTALL], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.ok(readFileSync(INSTALL, 'utf8').startsWith('#!/bin/sh\n'));
    assert.match(readFileSync(INSTALL, 'utf8'), /^set -eu$/m);
  });

  it('--help says what it does and every option', () => {
    const run = install(['--help']);
    assert.equal(run.status, 0, run.stderr);
    for (const option of ['--token-file FILE', '--config FILE', '--no-start', '--root DIR', '--help']) assert.ok(run.stdout.includes(option), option);
    assert.match(run.stdout, /^Usage: install\.sh/);
  });

  it('--root DIR installs the directories, token, config and unit with their modes, and runs nothing outside DIR', () => {
    const root = path.join(tmp.dir, 'root-a');
    mkdirSync(root);
    const config = path.join(tmp.dir, 'agent.yaml');
    const yaml = 'dataDir: /var/lib/causeway\njoinTokenFile: /etc/causeway/join-token\n';
    writeFileSync(config, yaml);
    const run = install(['--root', root, '--config', config], `${TOKEN}\n`);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /skipped \(--root\): useradd causeway/);
    assert.match(run.stdout, /skipped \(--root\): systemctl daemon-reload; systemctl enable --now causeway-agent\.service/);
    assert.ok(!`${run.stdout}${run.stderr}`.includes(TOKEN), 'the token is never printed');

    assert.equal(modeOf(path.join(root, 'etc/causeway')), '0750');
    assert.equal(modeOf(path.join(root, 'etc/causeway/join-token')), '0600');
    assert.equal(readFileSync(path.join(root, 'etc/causeway/join-token'), 'utf8'), `${TOKEN}\n`);
    assert.equal(modeOf(path.join(root, 'etc/causeway/agent.yaml')), '0640');
    assert.equal(readFileSync(path.join(root, 'etc/causeway/agent.yaml'), 'utf8'), yaml);
    assert.equal(run.stderr, '', 'no warning about the config');
    assert.equal(modeOf(path.join(root, 'var/lib/causeway')), '0700');
    const unitFile = path.join(root, 'etc/systemd/system/causeway-agent.service');
    assert.equal(modeOf(unitFile), '0644');
    assert.equal(readFileSync(unitFile, 'utf8'), readFileSync(UNIT, 'utf8'), 'the unit as shipped (ExecStart=/usr/local/bin/causeway)');
    const left = spawnSync('find', [root, '-name', '*.in.*'], { encoding: 'utf8' }).stdout;
    assert.equal(left, '', 'no temporary file left');
  });

  it('runs again without a token, keeping the one installed (idempotent); --no-start only enables', () => {
    const root = path.join(tmp.dir, 'root-a');
    const run = install(['--root', root, '--no-start']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /keeping \/etc\/causeway\/join-token/);
    assert.match(run.stdout, /systemctl enable causeway-agent\.service$/m);
    assert.equal(readFileSync(path.join(root, 'etc/causeway/join-token'), 'utf8'), `${TOKEN}\n`);
    assert.equal(modeOf(path.join(root, 'etc/causeway/join-token')), '0600');
  });

  it('reads the token from --token-file, and warns of a config whose dataDir the sandbox keeps read-only', () => {
    const root = path.join(tmp.dir, 'root-b');
    mkdirSync(root);
    const file = path.join(tmp.dir, 'token');
    writeFileSync(file, `${TOKEN}\n`);
    const config = path.join(tmp.dir, 'other.yaml');
    writeFileSync(config, 'dataDir: /etc/causeway/data\n');
    const run = install(['--root', root, '--token-file', file, '--config', config]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(path.join(root, 'etc/causeway/join-token'), 'utf8'), `${TOKEN}\n`);
    assert.match(run.stderr, /warning: \/etc\/causeway\/agent\.yaml should say dataDir: \/var\/lib\/causeway/);
    assert.match(run.stderr, /warning: \/etc\/causeway\/agent\.yaml names no joinTokenFile/);
  });

  it('refuses what is not a join token without showing it, a missing token, and unknown options', () => {
    const root = path.join(tmp.dir, 'root-c');
    mkdirSync(root);
    for (const notAToken of ['cwpt1.abc.def', `${TOKEN} extra`, `${TOKEN}\nsecond line`, 'cwjt1..mac', '-----BEGIN PRIVATE KEY-----']) {
      const run = install(['--root', root], notAToken);
      assert.equal(run.status, 1, notAToken);
      assert.match(run.stderr, /is not a join token .* its contents are not shown/);
      assert.ok(!run.stderr.includes(notAToken));
    }
    const none = install(['--root', root]);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no join token: give one with --token-file FILE or on stdin/);
    const bad = install(['--root', root, '--colour']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option --colour \(see --help\)/);
    assert.equal(install(['--root', path.join(tmp.dir, 'nowhere')], TOKEN).status, 1);
  });

  it('stops with how to install Node.js when node is missing or older than 20, having written nothing', () => {
    const root = path.join(tmp.dir, 'root-d');
    mkdirSync(root);
    // A PATH with the tools the script needs before its Node check, and no node.
    const bin = path.join(tmp.dir, 'bin');
    mkdirSync(bin);
    for (const tool of ['dirname', 'cat']) {
      symlinkSync(spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, tool));
    }
    const missing = install(['--root', root], TOKEN, bin);
    assert.equal(missing.status, 1, missing.stderr);
    assert.match(missing.stderr, /needs Node\.js 20 or later; node is not on PATH/);
    assert.match(missing.stderr, /apt-get install nodejs/);
    writeFileSync(path.join(bin, 'node'), '#!/bin/sh\n[ "$1" = --version ] && echo v18.19.0 || echo 18\n', { mode: 0o755 });
    const old = install(['--root', root], TOKEN, bin);
    assert.equal(old.status, 1, old.stderr);
    assert.match(old.stderr, /needs Node\.js 20 or later; this is node v18\.19\.0/);
    assert.equal(spawnSync('find', [root, '-mindepth', '1'], { encoding: 'utf8' }).stdout, '');
  });
});
