import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError, silentLogger } from '../../registry/index.js';
import { Gateway, parseConfigText } from '../../gateway/index.js';
import { AGENT_KEY_FILE, AGENT_STATE_FILE, AgentIdentity } from '../../gateway/agent/agent-identity.js';
import { makeTempDir } from '../helpers/paths.js';

const TD = 'agent-id.example.org';
const VM = `spiffe://${TD}/ns/legacy/sa/billing`;

describe('agent identity against an in-process gateway: join, renew, bundle refresh, restart', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let gateway: Gateway;
  let tokens = 0;

  const token = async (identity: string, ttlSeconds = 600): Promise<string> => {
    const minted = await gateway.issuer.createJoinToken({ identity, ttlSeconds, agent: 'vm-test' });
    tokens += 1;
    const file = path.join(tmp.dir, `token-${tokens}`);
    await writeFile(file, minted.token, { mode: 0o600 });
    return file;
  };

  before(async () => {
    tmp = await makeTempDir('agent-identity');
    const text = `
cluster: cluster-a
trustDomain: ${TD}
gatewayName: gw-1
dataDir: ${path.join(tmp.dir, 'gw')}
listen: { eastWest: "127.0.0.1:0", federation: "127.0.0.1:0", outbound: "127.0.0.1:0", admin: "127.0.0.1:0", identity: "127.0.0.1:0" }
trust: { publishWindow: 5m, bundleRefreshHint: 5s }
`;
    gateway = await Gateway.start(parseConfigText(text, path.join(tmp.dir, 'gateway.yaml')), { logger: silentLogger() });
  });

  after(async () => {
    await gateway?.close();
    await tmp?.remove();
  });

  it('joins with a token: the key is made here (0600) and the SVID is the identity asked for, with the token\'s host', async () => {
    const dataDir = path.join(tmp.dir, 'a1');
    const identity = await AgentIdentity.open({ dataDir, joinTokenFile: await token(VM) });
    try {
      assert.equal((await stat(path.join(dataDir, AGENT_KEY_FILE))).mode & 0o777, 0o600);
      assert.equal((await stat(path.join(dataDir, AGENT_STATE_FILE))).mode & 0o777, 0o600);
      assert.equal(identity.current().spiffeId, VM);
      assert.equal(identity.host, 'vm-test');
      assert.equal(new X509Certificate(identity.current().certChainPem).checkPrivateKey(createPrivateKey(await readFile(path.join(dataDir, AGENT_KEY_FILE), 'utf8'))), true);
    } finally {
      identity.close();
    }
  });

  it('renews with a new key, authenticated by the SVID in force, and tells its listeners', async () => {
    const dataDir = path.join(tmp.dir, 'a2');
    const identity = await AgentIdentity.open({ dataDir, joinTokenFile: await token(VM) });
    try {
      const before = identity.current();
      const rotated: string[] = [];
      identity.onRotate((svid) => rotated.push(svid.certChainPem));
      await identity.renew();
      const after = identity.current();
      assert.equal(after.spiffeId, VM);
      assert.notEqual(after.keyPem, before.keyPem);
      assert.notEqual(new X509Certificate(after.certChainPem).serialNumber, new X509Certificate(before.certChainPem).serialNumber);
      assert.deepEqual(rotated, [after.certChainPem]);
      assert.equal(await readFile(path.join(dataDir, AGENT_KEY_FILE), 'utf8'), after.keyPem);
    } finally {
      identity.close();
    }
  });

  it('a restarted agent uses its saved identity and needs no token; a CA rotation reaches it through the bundle endpoint', async () => {
    const dataDir = path.join(tmp.dir, 'a3');
    (await AgentIdentity.open({ dataDir, joinTokenFile: await token(VM) })).close();
    const identity = await AgentIdentity.open({ dataDir });
    try {
      assert.equal(identity.current().spiffeId, VM);
      const sequence = identity.bundle().sequence;
      await gateway.ca.rotate();
      assert.equal(await identity.refreshBundle(), true);
      assert.ok(identity.bundle().sequence > sequence);
      assert.equal(identity.bundle().rootsPem.length, 2, 'the new root is trusted before it signs');
      assert.equal(await identity.refreshBundle(), false, 'an unchanged bundle changes nothing');
      const saved = JSON.parse(await readFile(path.join(dataDir, AGENT_STATE_FILE), 'utf8')) as { bundle: string };
      assert.equal((JSON.parse(saved.bundle) as { spiffe_sequence: number }).spiffe_sequence, identity.bundle().sequence);
    } finally {
      identity.close();
    }
  });

  it('refuses what cannot work, naming it: no token, a pattern grant without an identity, a token of another domain\'s identity, a corrupt state', async () => {
    await assert.rejects(AgentIdentity.open({ dataDir: path.join(tmp.dir, 'b1') }), (err: Error) => isCausewayError(err, 'CW_CONFIG_INVALID') && /no joinTokenFile/.test(err.message));
    await assert.rejects(AgentIdentity.open({ dataDir: path.join(tmp.dir, 'b2'), joinTokenFile: await token(`spiffe://${TD}/ns/legacy/*`) }),
      (err: Error) => isCausewayError(err, 'CW_CONFIG_INVALID') && /name the identity to ask for/.test(err.message));
    await assert.rejects(AgentIdentity.open({ dataDir: path.join(tmp.dir, 'b3'), joinTokenFile: await token(VM), identity: 'spiffe://other.example.org/ns/x/sa/y' }),
      (err: Error) => isCausewayError(err, 'CW_CONFIG_INVALID') && /outside the token's trust domain/.test(err.message));
    await assert.rejects(AgentIdentity.open({ dataDir: path.join(tmp.dir, 'b4'), joinTokenFile: path.join(tmp.dir, 'missing') }),
      (err: Error) => isCausewayError(err, 'CW_CONFIG_READ'));
    const garbage = path.join(tmp.dir, 'garbage-token');
    await writeFile(garbage, 'cwjt1.not-a-token');
    await assert.rejects(AgentIdentity.open({ dataDir: path.join(tmp.dir, 'b5'), joinTokenFile: garbage }), (err: Error) => isCausewayError(err, 'CW_TOKEN_MALFORMED'));
    const dataDir = path.join(tmp.dir, 'b6');
    (await AgentIdentity.open({ dataDir, joinTokenFile: await token(VM) })).close();
    await writeFile(path.join(dataDir, AGENT_STATE_FILE), '{"v": 1, "trustDomain": 3}');
    await assert.rejects(AgentIdentity.open({ dataDir }), (err: Error) => isCausewayError(err, 'CW_STORE_CORRUPT') && /remove agent-state\.json/.test(err.message));
  });
});
