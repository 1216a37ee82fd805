import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CertificateAuthority, SvidRotator } from '../../../../federation/index.js';
import { makeTempDir } from '../../../helpers/paths.js';

describe('SvidRotator', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let ca: CertificateAuthority;

  before(async () => {
    tmp = await makeTempDir('rotator');
    ca = await CertificateAuthority.loadOrCreate({ dir: path.join(tmp.dir, 'ca'), trustDomain: 'a.test', maxSvidTtlSeconds: 90 * 86400 });
  });
  after(() => tmp.remove());

  it('waits out a half life longer than the 2^31-1 ms timer limit instead of re-issuing at once', async () => {
    // Regression: a 60-day SVID has a 30-day half life; Node fires such a timer after 1 ms,
    // which made the rotator re-issue in a tight loop.
    const rotator = new SvidRotator({ ca, spiffeId: 'spiffe://a.test/gateway/gw', ttlSeconds: 60 * 86400 });
    let rotations = 0;
    rotator.onRotate(() => rotations++);
    rotator.start();
    await sleep(300);
    rotator.close();
    assert.equal(rotations, 0);
  });

  it('keeps its SVID and retries when the CA cannot sign, instead of crashing the process', async () => {
    // A CA whose authority has expired refuses to sign; stand in for it after the first SVID.
    let calls = 0;
    const failing = {
      issueKeyAndSvid: (id: string, ttl: number) => {
        calls++;
        if (calls > 1) throw new Error('the signing authority expired');
        return ca.issueKeyAndSvid(id, ttl);
      },
    } as unknown as CertificateAuthority;
    const rotator = new SvidRotator({ ca: failing, spiffeId: 'spiffe://a.test/gateway/gw', ttlSeconds: 4 });
    const first = rotator.current();
    rotator.start();
    const keepAlive = setTimeout(() => undefined, 30_000);
    await sleep(1500); // past the 1 s floor: the renewal ran and failed
    clearTimeout(keepAlive);
    rotator.close();
    assert.equal(calls, 2);
    assert.equal(rotator.current(), first);
  });

  it('renews at half life and tells its listeners', async () => {
    // notBefore is backdated a minute, so a 4 s SVID is past half life: renewal comes after the 1 s floor.
    const rotator = new SvidRotator({ ca, spiffeId: 'spiffe://a.test/gateway/gw', ttlSeconds: 4 });
    const first = rotator.current();
    const rotated = new Promise<string>((resolve) => rotator.onRotate((svid) => resolve(svid.certChainPem)));
    rotator.start();
    const keepAlive = setTimeout(() => undefined, 30_000); // the rotator's own timer is unref'd
    const pem = await rotated;
    clearTimeout(keepAlive);
    rotator.close();
    assert.notEqual(pem, first.certChainPem);
    assert.equal(rotator.current().certChainPem, pem);
  });
});
