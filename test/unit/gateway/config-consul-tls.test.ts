// sources.consul[].tls as a mapping (caFile, certFile, keyFile, serverName), concurrency and
// resync: validated with their paths at load, and the TLS files read at start with the field named.
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError } from '../../../registry/index.js';
import { parseConfigText } from '../../../gateway/index.js';
import { readConsulTls } from '../../../gateway/config/consul-tls.js';
import { MINIMAL_CONFIG, problemsOf } from '../../helpers/config-problems.js';
import { makeConsulTls, type ConsulTlsFiles } from '../../helpers/consul-tls.js';
import { makeTempDir } from '../../helpers/paths.js';

const withConsul = (entry: string): string => `${MINIMAL_CONFIG}sources:\n  consul:\n    - { name: dc1, address: "10.0.0.5:8501", ${entry} }\n`;

describe('config: sources.consul[].tls, concurrency, resync', () => {
  it('takes tls as true or as a mapping, paths relative to the config file, and concurrency and resync', () => {
    const [on] = parseConfigText(withConsul('tls: true'), '/etc/causeway/gw.yaml').sources.consul;
    assert.deepEqual([on?.tls, on?.tlsFiles], [true, { caFile: undefined, certFile: undefined, keyFile: undefined, serverName: undefined }]);
    const [full] = parseConfigText(withConsul(
      'tls: { caFile: consul/ca.pem, certFile: /pki/client.pem, keyFile: consul/client-key.pem, serverName: server.dc1.consul }, concurrency: 16, resync: 1m',
    ), '/etc/causeway/gw.yaml').sources.consul;
    assert.deepEqual([full?.tls, full?.tlsFiles, full?.concurrency, full?.resyncMs], [true, {
      caFile: '/etc/causeway/consul/ca.pem', certFile: '/pki/client.pem', keyFile: '/etc/causeway/consul/client-key.pem', serverName: 'server.dc1.consul',
    }, 16, 60_000]);
    assert.equal(parseConfigText(withConsul('tls: false'), '/etc/causeway/gw.yaml').sources.consul[0]?.tls, false);
  });

  it('names every problem of a tls mapping, concurrency and resync', () => {
    assert.deepEqual(problemsOf(withConsul('tls: { cafile: ca.pem, certFile: c.pem, serverName: 10.0.0.5 }, concurrency: 0, resync: 1s')), [
      'sources.consul[0].tls.cafile: unknown field (did you mean "caFile"?)',
      'sources.consul[0].tls.keyFile: is required with certFile (a client certificate and its key go together)',
      'sources.consul[0].tls.serverName: "10.0.0.5" must be a DNS name, the one in the agent\'s certificate (server.dc1.consul); an IP address is checked without it',
      'sources.consul[0].concurrency: must be a whole number from 1 to 64',
      'sources.consul[0].resync: must be a duration ("500ms", "10s", "5m"; a number is seconds) in ms from 10000 to 86400000',
    ]);
    assert.deepEqual(problemsOf(withConsul('tls: { keyFile: k.pem, caFile: "" }')), [
      'sources.consul[0].tls.caFile: must be a non-empty string',
      'sources.consul[0].tls.certFile: is required with keyFile (a client certificate and its key go together)',
    ]);
    assert.deepEqual(problemsOf(withConsul('tls: [ca.pem]')), ['sources.consul[0].tls: must be true, false or a mapping of caFile, certFile, keyFile, serverName']);
  });
});

describe('reading a Consul source\'s TLS files at start', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let tls: ConsulTlsFiles;
  const at = (name: string): string => path.join(tmp.dir, name);
  const files = (over: Partial<Record<'caFile' | 'certFile' | 'keyFile', string>> = {}): { caFile: string; certFile: string; keyFile: string; serverName: string } => ({
    caFile: at(tls.files.ca), certFile: at(tls.files.clientCert), keyFile: at(tls.files.clientKey), serverName: 'server.dc1.consul', ...over,
  });

  before(async () => {
    tmp = await makeTempDir('consul-tls-files');
    tls = makeConsulTls(tmp.dir);
    await writeFile(at('garbage.pem'), 'not a certificate\n');
    await copyFile(at(tls.files.serverKey), at('other-key.pem'));
  });
  after(async () => {
    await tmp?.remove();
  });

  it('reads the CA, the client certificate and its key', async () => {
    const options = await readConsulTls('dc1', files());
    assert.deepEqual([options.ca, options.cert, options.key, options.serverName], [tls.caPem, tls.clientCertPem, tls.clientKeyPem, 'server.dc1.consul']);
    assert.deepEqual(await readConsulTls('dc1', { caFile: undefined, certFile: undefined, keyFile: undefined, serverName: undefined }), {});
  });

  it('a missing file, or one that is not what it should be, is CW_CONFIG_READ naming the field', async () => {
    const refusal = async (over: Parameters<typeof files>[0]): Promise<[string, string]> => {
      try {
        await readConsulTls('dc1', files(over));
      } catch (err) {
        assert.ok(isCausewayError(err));
        return [err.code, err.message];
      }
      assert.fail('the files were accepted');
    };
    const [code, message] = await refusal({ caFile: at('missing.pem') });
    assert.equal(code, 'CW_CONFIG_READ');
    assert.match(message, /^sources\.consul dc1: tls\.caFile: cannot read .*missing\.pem: .*ENOENT/);
    assert.deepEqual(await refusal({ caFile: at('garbage.pem') }), ['CW_CONFIG_READ', `sources.consul dc1: tls.caFile: ${at('garbage.pem')} holds no PEM certificate`]);
    assert.deepEqual(await refusal({ certFile: at('garbage.pem') }), ['CW_CONFIG_READ', `sources.consul dc1: tls.certFile: ${at('garbage.pem')} holds no PEM certificate`]);
    assert.match((await refusal({ keyFile: at('garbage.pem') }))[1], /^sources\.consul dc1: tls\.keyFile: .*garbage\.pem holds no private key: /);
    assert.deepEqual(await refusal({ keyFile: at('other-key.pem') }),
      ['CW_CONFIG_READ', `sources.consul dc1: tls.keyFile: ${at('other-key.pem')} is not the key of tls.certFile ${at(tls.files.clientCert)}`]);
    assert.match((await refusal({ keyFile: at('nope.pem') }))[1], /^sources\.consul dc1: tls\.keyFile: cannot read /);
  });
});
