import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../../gateway/index.js';
import { MINIMAL_CONFIG as MINIMAL, problemsOf } from '../../helpers/config-problems.js';

describe('gateway config: xds', () => {
  it('is off unless configured; listens on 127.0.0.1:15010 by default, mTLS only', () => {
    assert.equal(parseConfigText(MINIMAL).xds, undefined);
    assert.deepEqual(parseConfigText(`${MINIMAL}\nxds: {}\n`).xds, { listen: { host: '127.0.0.1', port: 15010 }, plaintext: false });
    assert.deepEqual(parseConfigText(`${MINIMAL}\noutbound: { identifyCallersBySourceAddress: true }\nxds: { listen: "0.0.0.0:9010", plaintext: true }\n`).xds,
      { listen: { host: '0.0.0.0', port: 9010 }, plaintext: true });
  });

  it('names every bad field', () => {
    assert.deepEqual(problemsOf(`${MINIMAL}\nxds: { listen: 15010, plaintext: yes, lsiten: x }\n`), [
      'xds.lsiten: unknown field (did you mean "listen"?)',
      'xds.listen: must be host:port such as "127.0.0.1:15010" (it is not a string)',
      'xds.plaintext: must be true or false',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}\nxds: { plaintext: true }\n`), [
      'xds.plaintext: needs outbound.identifyCallersBySourceAddress: true (a plaintext client is named by its source address, or refused)',
    ]);
    assert.deepEqual(problemsOf(`${MINIMAL}\nxds: on\n`), ['xds: must be a mapping of listen, plaintext']);
  });
});
