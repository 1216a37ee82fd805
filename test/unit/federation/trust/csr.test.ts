import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isCausewayError } from '../../../../registry/index.js';
import { parseCsr } from '../../../../federation/index.js';
import { bitString, explicit, implicitPrimitive, nullValue, octetString, oid, sequence, set, smallInteger, tlv } from '../../../../federation/trust/der-writer.js';
import { makeTempDir } from '../../../helpers/paths.js';

function openssl(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => execFile('openssl', args, (err, _stdout, stderr) => resolve({ code: err === null ? 0 : 1, stderr })));
}

describe('parseCsr (PKCS#10, RFC 2986)', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  const csrs = new Map<string, string>();

  /** A key of the given openssl genpkey options and a CSR for it, optionally with SANs. */
  async function make(name: string, keyArgs: string[], san?: string, reqArgs: string[] = []): Promise<void> {
    const key = path.join(tmp.dir, `${name}.key`);
    const csr = path.join(tmp.dir, `${name}.csr`);
    const generated = await openssl(['genpkey', ...keyArgs, '-out', key]);
    assert.equal(generated.code, 0, generated.stderr);
    const requested = await openssl(['req', '-new', '-key', key, '-subj', `/CN=${name}`, ...reqArgs, ...(san === undefined ? [] : ['-addext', `subjectAltName=${san}`]), '-out', csr]);
    assert.equal(requested.code, 0, requested.stderr);
    csrs.set(name, await readFile(csr, 'utf8'));
  }

  before(async () => {
    tmp = await makeTempDir('csr');
    await make('ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], 'URI:spiffe://a.test/ns/web/sa/vm-1,DNS:vm-1.internal');
    await make('ec384', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']);
    await make('rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'URI:spiffe://a.test/ns/web/sa/rsa');
    await make('ed25519', ['-algorithm', 'ED25519']);
    await make('rsa1024', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']);
    await make('p521', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521']);
    await make('sha512', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'], undefined, ['-sha512']);
    const params = path.join(tmp.dir, 'dsa.params');
    const generated = await openssl(['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:1024', '-out', params]);
    assert.equal(generated.code, 0, generated.stderr);
    await make('dsa', ['-paramfile', params]);
  });
  after(() => tmp.remove());

  it('reads RSA, EC P-256/P-384 and Ed25519 requests made by openssl, with their requested SANs', () => {
    const ec = parseCsr(csrs.get('ec') ?? '');
    assert.equal(ec.keyType, 'ec');
    assert.deepEqual(ec.requestedUris, ['spiffe://a.test/ns/web/sa/vm-1']);
    assert.deepEqual(ec.requestedDns, ['vm-1.internal']);
    assert.equal(ec.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(parseCsr(csrs.get('ec384') ?? '').keyType, 'ec');
    const rsa = parseCsr(csrs.get('rsa') ?? '');
    assert.equal(rsa.keyType, 'rsa');
    assert.deepEqual(rsa.requestedUris, ['spiffe://a.test/ns/web/sa/rsa']);
    const ed = parseCsr(csrs.get('ed25519') ?? '');
    assert.equal(ed.keyType, 'ed25519');
    assert.deepEqual(ed.requestedUris, []);
  });

  it('refuses what it cannot trust, naming the problem, with CW_CSR_INVALID', () => {
    const good = csrs.get('ec') ?? '';
    const body = good.split('\n').filter((l) => !l.startsWith('-----') && l !== '').join('');
    const der = Buffer.from(body, 'base64');
    const pem = (bytes: Buffer, label = 'CERTIFICATE REQUEST'): string =>
      `-----BEGIN ${label}-----\n${bytes.toString('base64').match(/.{1,64}/g)?.join('\n')}\n-----END ${label}-----\n`;
    const flipped = Buffer.from(der);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 0x01;
    const alteredName = Buffer.from(der);
    const cn = alteredName.indexOf(Buffer.from('ec'));
    alteredName[cn] = 'x'.charCodeAt(0);
    const cases: Array<[string, string, RegExp]> = [
      ['not PEM', 'hello', /not PEM/],
      ['a certificate, not a request', pem(der, 'CERTIFICATE'), /not a CERTIFICATE REQUEST/],
      ['truncated DER', pem(der.subarray(0, der.length - 20)), /bad DER/],
      ['trailing bytes', pem(Buffer.concat([der, Buffer.from([0, 0])])), /trailing bytes/],
      ['a flipped signature byte', pem(flipped), /does not verify|bad DER/],
      ['an altered subject', pem(alteredName), /does not verify/],
      ['RSA 1024', csrs.get('rsa1024') ?? '', /RSA key of 1024 bits/],
      ['P-521', csrs.get('p521') ?? '', /EC curve secp521r1 is not accepted/],
      ['a DSA key', csrs.get('dsa') ?? '', /a dsa key is not accepted/],
      ['ecdsa-with-SHA512', csrs.get('sha512') ?? '', /signature algorithm 1\.2\.840\.10045\.4\.3\.4 is not supported/],
      ['garbage base64', pem(Buffer.from('not a request at all')), /bad DER/],
      ['an empty block', '-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n', /not a CERTIFICATE REQUEST|not PEM/],
      ['over-long', `${good}${' '.repeat(17 * 1024)}`, /longer than 16384 bytes/],
    ];
    for (const [name, input, reason] of cases) {
      assert.throws(() => parseCsr(input), (err) => isCausewayError(err, 'CW_CSR_INVALID') && reason.test(err.message), name);
    }
    assert.throws(() => parseCsr(42 as unknown as string), (err) => isCausewayError(err, 'CW_CSR_INVALID') && /not PEM text/.test(err.message));
  });

  it('refuses correctly signed requests whose content is wrong', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ECDSA_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));
    const sanRequest = (extnValue: Buffer): Buffer => explicit(0, sequence(oid('1.2.840.113549.1.9.14'), set(sequence(sequence(oid('2.5.29.17'), octetString(extnValue))))));
    /** A CertificationRequest signed by `key` over exactly the info given (RFC 2986 §4). */
    function request(key: KeyObject, algorithm: Buffer, info: Buffer): string {
      const der = sequence(info, algorithm, bitString(sign('sha256', info, key)));
      return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    }
    const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });
    const info = (key: KeyObject, attributes: Buffer, version = 0): Buffer => sequence(smallInteger(version), sequence(), spki(key), attributes);
    const names = sequence(implicitPrimitive(6, Buffer.from('spiffe://a.test/x')));
    // The hand-built request is sound: the same shape with good content parses.
    assert.deepEqual(parseCsr(request(ec.privateKey, ECDSA_SHA256, info(ec.publicKey, sanRequest(names)))).requestedUris, ['spiffe://a.test/x']);
    const longForm = Buffer.concat([Buffer.from([0x30, 0x81, 0x04]), implicitPrimitive(6, Buffer.from('ab'))]);
    const cases: Array<[string, string, RegExp]> = [
      ['version 1', request(ec.privateKey, ECDSA_SHA256, info(ec.publicKey, explicit(0, Buffer.alloc(0)), 1)), /version is not 0/],
      ['a SAN that is not DER', request(ec.privateKey, ECDSA_SHA256, info(ec.publicKey, sanRequest(Buffer.from([0x30, 0x05, 0x86])))), /bad extensionRequest/],
      ['a non-minimal length', request(ec.privateKey, ECDSA_SHA256, info(ec.publicKey, sanRequest(longForm))), /non-minimal length/],
      ['an ECDSA algorithm on an RSA key', request(rsa.privateKey, ECDSA_SHA256, info(rsa.publicKey, explicit(0, Buffer.alloc(0)))), /ecdsa-with-SHA256 does not fit a rsa key/],
      ['RSA with sha256 under the sha512 identifier', request(rsa.privateKey, sequence(oid('1.2.840.113549.1.1.13'), nullValue()), info(rsa.publicKey, explicit(0, Buffer.alloc(0)))), /does not verify/],
      ['attributes that are not [0]', request(ec.privateKey, ECDSA_SHA256, info(ec.publicKey, tlv(0xa1, Buffer.alloc(0)))), /attributes has tag 0xa1/],
    ];
    for (const [name, input, reason] of cases) {
      assert.throws(() => parseCsr(input), (err) => isCausewayError(err, 'CW_CSR_INVALID') && reason.test(err.message), name);
    }
  });
});
