import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../../registry/index.js';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

describe('logger', () => {
  it('redacts secrets at the top level and one level down, in child loggers too', () => {
    const { stream, lines } = capture();
    const root = createLogger({ level: 'info', destination: stream });
    const child = root.child({ component: 'peering' });
    child.info({ secret: 's3cr3t', token: 'cwpt1.abc', peer: { secret: 'nested', name: 'b' }, headers: { authorization: 'Bearer x' } }, 'hello');
    child.info({ keyPem: '-----BEGIN PRIVATE KEY-----' }, 'key');
    const text = lines().join('\n');
    for (const secret of ['s3cr3t', 'cwpt1.abc', 'nested', 'Bearer x', 'BEGIN PRIVATE KEY']) assert.equal(text.includes(secret), false, `${secret} leaked`);
    const first = JSON.parse(lines()[0] ?? '{}') as Record<string, any>;
    assert.equal(first.component, 'peering');
    assert.equal(first.secret, '[redacted]');
    assert.equal(first.peer.name, 'b');
  });
});
