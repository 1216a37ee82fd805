import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, REPO_ROOT, makeTempDir } from '../../helpers/paths.js';
import { parseUnit, systemdAnalyzeMissing, verifyUnit } from '../../helpers/systemd-unit.js';

/** terraform/modules/gateway-vm/files: what every cloud module's cloud-init puts on a gateway VM. */
const FILES = path.join(REPO_ROOT, 'terraform', 'modules', 'gateway-vm', 'files');
const UNIT = path.join(FILES, 'causeway-gateway.service');
const AGENT_UNIT = path.join(FILES, 'causeway-agent.service');
const INSTALL = path.join(FILES, 'install-gateway.sh');
const CONFIG_TEMPLATE = path.join(FILES, 'gateway.yaml.tftpl');

const modeOf = (file: string): string => (statSync(file).mode & 0o7777).toString(8).padStart(4, '0');

/** Runs install-gateway.sh under /bin/sh; never without --root (that would install for real). */
function install(args: string[], PATH: string): SpawnSyncReturns<string> {
  assert.ok(args.includes('--root') || args.includes('--help'), 'tests run install-gateway.sh with --root only');
  return spawnSync('/bin/sh', [INSTALL, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PATH } });
}

describe('causeway-gateway.service', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service');
  const value = (key: string): string | undefined => service?.get(key)?.at(-1);

  it('runs causeway gateway with the config cloud-init writes, as causeway, restarted on failure and never given up', () => {
    assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
    assert.match(value('ExecStart') ?? '', /^\/\S+\/causeway gateway --config \/etc\/causeway\/gateway\.yaml$/);
    const expected: Record<string, string> = {
      Type: 'simple', User: 'causeway', Group: 'causeway', Restart: 'on-failure', KillSignal: 'SIGTERM',
      StateDirectory: 'causeway', StateDirectoryMode: '0700', UMask: '0077', ExecReload: '/bin/kill -HUP $MAINPID',
    };
    for (const [key, want] of Object.entries(expected)) assert.equal(value(key), want, key);
    assert.match(value('RestartSec') ?? '', /^\d+s$/);
    assert.equal(unit.get('Unit')?.get('StartLimitIntervalSec')?.[0], '0');
    assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
    assert.ok(Number(value('LimitNOFILE')) >= 65536, 'limits.maxConnections auto is derived from the open-file limit');
  });

  it('is sandboxed like the agent: every hardening directive of causeway-agent.service, with the same value', () => {
    const agent = parseUnit(readFileSync(AGENT_UNIT, 'utf8')).get('Service') ?? new Map<string, string[]>();
    const hardening = [
      'NoNewPrivileges', 'ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateDevices', 'ReadWritePaths', 'CapabilityBoundingSet',
      'AmbientCapabilities', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectControlGroups', 'ProtectClock',
      'ProtectHostname', 'RestrictNamespaces', 'RestrictRealtime', 'RestrictSUIDSGID', 'LockPersonality', 'RestrictAddressFamilies',
      'SystemCallArchitectures', 'SystemCallFilter', 'SystemCallErrorNumber',
    ];
    for (const key of hardening) assert.deepEqual(service?.get(key), agent.get(key), key);
    assert.equal(value('CapabilityBoundingSet'), '', 'no capability at all');
    assert.equal(service?.has('MemoryDenyWriteExecute'), false, 'V8 needs W+X pages');
  });

  it('needs no capability: every port the VM config listens on is above 1023', () => {
    const ports = [...readFileSync(CONFIG_TEMPLATE, 'utf8').matchAll(/^ {2}[a-zA-Z]+: (?:[0-9.]+|\$\{advertise_ip\}):(\d+)$/gm)].map((m) => Number(m[1]));
    assert.equal(ports.length, 8, 'five listen and three advertise lines');
    for (const port of ports) assert.ok(port >= 1024, `port ${port} would need CAP_NET_BIND_SERVICE`);
  });

  it('passes systemd-analyze verify', async (t) => {
    const missing = systemdAnalyzeMissing();
    if (missing !== undefined) {
      t.skip(missing);
      return;
    }
    const run = await verifyUnit(UNIT);
    assert.deepEqual(run.aboutUnit, [], 'no warning about the unit (unknown keys, bad values)');
    assert.equal(run.status, 0, run.stderr);
  });
});

describe('install-gateway.sh', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  /** PATH with node and a `causeway` that is this checkout's CLI: the validator runs for real. */
  let withCauseway: string;
  before(async () => {
    tmp = await makeTempDir('vm-gateway-install');
    const bin = path.join(tmp.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'causeway'), `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
    withCauseway = `${bin}:${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  });
  after(async () => { await tmp.remove(); });

  /** A root as cloud-init leaves it: the config and every file it names, written by root. */
  function cloudInitRoot(name: string, config: string): string {
    const root = path.join(tmp.dir, name);
    const write = (file: string, text: string, mode: number): void => {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), text, { mode });
    };
    write('etc/causeway/gateway.yaml', config, 0o644);
    write('etc/causeway/policies/access.yaml', 'kind: AccessPolicy\n', 0o644);
    write('etc/causeway/ca/tls.crt', 'CERT\n', 0o644);
    write('etc/causeway/ca/tls.key', 'KEY\n', 0o644);
    write('etc/causeway/ca/ca.crt', 'ROOT\n', 0o644);
    write('etc/causeway/bootstrap.key', `${'ab'.repeat(32)}\n`, 0o644);
    write('etc/causeway/peers/west.credential', 'cwbt1.x\n', 0o644);
    return root;
  }
  const validConfig = [
    'cluster: east', 'trustDomain: east.example.org', 'dataDir: /var/lib/causeway',
    'listen: { eastWest: "0.0.0.0:15443", federation: "0.0.0.0:15012", identity: "0.0.0.0:15017" }',
    'advertise: { eastWest: "192.0.2.10:15443", federation: "192.0.2.10:15012", identity: "192.0.2.10:15017" }',
    'peering: { bootstrapKeyFile: /etc/causeway/bootstrap.key }',
  ].join('\n');

  it('passes shellcheck, as does the agent\'s install.sh', (t) => {
    if (spawnSync('shellcheck', ['--version'], { encoding: 'utf8' }).status !== 0) {
      t.skip('shellcheck is not installed (scripts/install-test-tools.sh installs it)');
      return;
    }
    for (const script of [INSTALL, path.join(FILES, 'install.sh')]) {
      const run = spawnSync('shellcheck', ['--shell=sh', '--severity=style', script], { encoding: 'utf8' });
      assert.equal(run.status, 0, `${path.basename(script)}:\n${run.stdout}${run.stderr}`);
    }
  });

  it('is POSIX sh with set -eu, and --help names every option', () => {
    const text = readFileSync(INSTALL, 'utf8');
    assert.ok(text.startsWith('#!/bin/sh\n'));
    assert.match(text, /^set -eu$/m);
    assert.equal(spawnSync('/bin/sh', ['-n', INSTALL], { encoding: 'utf8' }).status, 0);
    const help = install(['--help'], withCauseway);
    assert.equal(help.status, 0, help.stderr);
    for (const option of ['--package SPEC', '--install-node', '--no-start', '--root DIR', '--help']) assert.ok(help.stdout.includes(option), option);
  });

  it('--root DIR gives the files cloud-init wrote their modes, validates the config, installs the unit, and runs nothing outside DIR', () => {
    const root = cloudInitRoot('root-a', validConfig);
    const run = install(['--root', root], withCauseway);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`${root}/etc/causeway/gateway\\.yaml: valid`), 'causeway config validate ran');
    assert.match(run.stdout, /skipped \(--root\): useradd causeway/);
    assert.match(run.stdout, /skipped \(--root\): systemctl daemon-reload; systemctl enable --now causeway-gateway\.service/);
    const modes: Record<string, string> = {
      'etc/causeway': '0750', 'etc/causeway/gateway.yaml': '0640', 'etc/causeway/policies': '0750', 'etc/causeway/policies/access.yaml': '0640',
      'etc/causeway/ca': '0750', 'etc/causeway/ca/tls.crt': '0644', 'etc/causeway/ca/ca.crt': '0644', 'etc/causeway/ca/tls.key': '0600',
      'etc/causeway/bootstrap.key': '0600', 'etc/causeway/peers': '0750', 'etc/causeway/peers/west.credential': '0600', 'var/lib/causeway': '0700',
      'etc/systemd/system/causeway-gateway.service': '0644',
    };
    for (const [file, mode] of Object.entries(modes)) assert.equal(modeOf(path.join(root, file)), mode, file);
    assert.equal(readFileSync(path.join(root, 'etc/systemd/system/causeway-gateway.service'), 'utf8'), readFileSync(UNIT, 'utf8'),
      'the unit as shipped (ExecStart=/usr/local/bin/causeway)');
    assert.equal(spawnSync('find', [root, '-name', '*.in.*'], { encoding: 'utf8' }).stdout, '', 'no temporary file left');
    const again = install(['--root', root, '--no-start'], withCauseway);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /systemctl enable causeway-gateway\.service$/m);
  });

  it('stops before the unit when the config is invalid, with the validator\'s problems', () => {
    const root = cloudInitRoot('root-b', validConfig.replace('192.0.2.10:15012', 'east-fed.example.net:15012'));
    const run = install(['--root', root], withCauseway);
    assert.equal(run.status, 1, run.stdout);
    assert.match(run.stderr, /CW_CONFIG_INVALID: .*advertise\.federation: "east-fed\.example\.net" is not an IP address/);
    assert.match(run.stderr, /\/etc\/causeway\/gateway\.yaml is invalid \(above\): the gateway is not started/);
    assert.equal(existsSync(path.join(root, 'etc/systemd/system/causeway-gateway.service')), false);
  });

  it('stops without a config, without Node.js 20 (saying how to get it), and on an unknown option', () => {
    const empty = path.join(tmp.dir, 'root-c');
    mkdirSync(empty);
    const noConfig = install(['--root', empty], withCauseway);
    assert.equal(noConfig.status, 1);
    assert.match(noConfig.stderr, /etc\/causeway\/gateway\.yaml is missing: cloud-init writes it/);
    // A PATH with what the script needs before its Node check, and an old node.
    const bin = path.join(tmp.dir, 'old-node-bin');
    mkdirSync(bin);
    for (const tool of ['dirname']) symlinkSync(spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, tool));
    writeFileSync(path.join(bin, 'node'), '#!/bin/sh\necho 18\n', { mode: 0o755 });
    const root = cloudInitRoot('root-d', validConfig);
    const old = install(['--root', root, '--install-node'], bin);
    assert.equal(old.status, 1, old.stdout);
    assert.match(old.stdout, /skipped \(--root\): apt-get install nodejs npm/);
    assert.match(old.stderr, /needs Node\.js 20 or later: apt-get install nodejs npm \(Debian 13 or later\)/);
    const bad = install(['--root', root, '--colour'], withCauseway);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option --colour \(see --help\)/);
  });
});
