import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogReader, ServiceRecord } from '../../../registry/index.js';
import { anonymousCallerHint } from '../../../gateway/anonymous-caller.js';
import { endpoint, record } from '../registry/fixtures.js';

function catalogOf(records: ServiceRecord[]): CatalogReader {
  return { localCluster: 'c1', recordsOf: (origin: string) => records.filter((r) => r.origin === origin) } as unknown as CatalogReader;
}

describe('why a caller was anonymous', () => {
  const empty = catalogOf([]);

  it('names outbound.identifyCallersBySourceAddress when it is off', () => {
    const hint = anonymousCallerHint({ identifyBySourceAddress: false, catalog: empty, address: '::ffff:127.0.0.1' });
    assert.match(hint, /presented no client certificate/);
    assert.match(hint, /outbound\.identifyCallersBySourceAddress is off/);
    assert.match(hint, /services\[\] with an endpoint whose address is 127\.0\.0\.1/);
  });

  it('says no endpoint has the address when it is on', () => {
    const hint = anonymousCallerHint({ identifyBySourceAddress: true, catalog: empty, address: '10.0.0.9' });
    assert.match(hint, /no endpoint in this gateway's services\[\] has its address 10\.0\.0\.9/);
  });

  it('says an address shared by different identities identifies no one', () => {
    const shared = record('c1', 'pay', 1, 1, { addresses: ['10.0.0.1'] });
    const other = { ...record('c1', 'web', 1, 2), endpoints: [endpoint('10.0.0.1', 'c1', 8080, { identity: 'spiffe://c1.test/ns/prod/sa/web' })] };
    const hint = anonymousCallerHint({ identifyBySourceAddress: true, catalog: catalogOf([shared, other]), address: '10.0.0.1' });
    assert.match(hint, /belongs to local endpoints with different identities \(spiffe:\/\/c1\.test\/ns\/prod\/sa\/pay, spiffe:\/\/c1\.test\/ns\/prod\/sa\/web\)/);
  });
});
