import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalisePath, pathHasPrefix } from '../../../../gateway/policy/request-path.js';
import { seeded } from './policy-builders.js';

describe('normalisePath', () => {
  // [request target, normalised path, ambiguous]
  const table: Array<[string, string, boolean]> = [
    ['/admin', '/admin', false],
    ['/a/../admin', '/admin', false],
    ['/public/../admin', '/admin', false],
    ['/public/./../admin', '/admin', false],
    ['//admin', '/admin', false],
    ['///admin//x', '/admin/x', false],
    ['/%61dmin', '/admin', false],
    ['/%41DMIN', '/ADMIN', false],
    ['/%2e%2e/admin', '/admin', false],
    ['/public/%2E%2E/admin', '/admin', false],
    ['/public/.%2e/admin', '/admin', false],
    ['/%7euser', '/~user', false],
    ['/../../etc/passwd', '/etc/passwd', false],
    ['/a/./b', '/a/b', false],
    ['/a/b/', '/a/b/', false],
    ['/a/b/..', '/a/', false],
    ['/a/.', '/a/', false],
    ['/..', '/', false],
    ['/', '/', false],
    ['', '/', false],
    // reserved and other characters stay encoded, in one (upper-case) form
    ['/a%20b', '/a%20b', false],
    ['/a%3fb', '/a%3Fb', false],
    ['/a%252Fb', '/a%252Fb', false],
    // the query and the fragment are not part of the path
    ['/admin?x=1', '/admin', false],
    ['/admin#top', '/admin', false],
    ['/public?next=/../admin', '/public', false],
    ['/a#b?c', '/a', false],
    ['/?/admin', '/', false],
    // an encoded / or \, a raw \, or a stray % means what the backend decides: ambiguous
    ['/a%2Fb', '/a%2Fb', true],
    ['/public%2f..%2fadmin', '/public%2F..%2Fadmin', true],
    ['/a%5cb', '/a%5Cb', true],
    ['/a\\..\\admin', '/a\\..\\admin', true],
    ['/100%', '/100%', true],
    ['/%zz', '/%zz', true],
    ['/%4', '/%4', true],
    // a raw ; starts path parameters, which some backends strip from a segment
    // (Tomcat: /public/..;/admin is /admin, /admin;x=1 is /admin): ambiguous too
    ['/public/..;/admin', '/public/..;/admin', true],
    ['/admin;jsessionid=1', '/admin;jsessionid=1', true],
    ['/a%3Bb', '/a%3Bb', false],
    // ... but only in the path: the query is not looked at
    ['/ok?x=%2F', '/ok', false],
    ['/ok?a=1;b=2', '/ok', false],
  ];
  for (const [target, path, ambiguous] of table) {
    it(`${JSON.stringify(target)} → ${path}${ambiguous ? ' (ambiguous)' : ''}`, () => {
      assert.deepEqual(normalisePath(target), { path, ambiguous });
    });
  }

  it('always yields one form: no empty, "." or ".." segment, and normalising again changes nothing', () => {
    const parts = ['a', 'b', '/', '/', '.', '..', '%2e', '%2E', '%61', '%41', '%7E', '%20', '?', '#', '%25', '~'];
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const random = seeded(seed);
      for (let n = 0; n < 500; n += 1) {
        let target = '/';
        const length = Math.floor(random() * 12);
        for (let i = 0; i < length; i += 1) target += parts[Math.floor(random() * parts.length)];
        const once = normalisePath(target);
        assert.equal(once.ambiguous, false, target);
        assert.ok(once.path.startsWith('/'), `${target} → ${once.path}`);
        const segments = once.path.slice(1).split('/');
        // Only the last segment may be empty (a trailing slash).
        for (const [i, segment] of segments.entries()) {
          assert.ok(segment !== '.' && segment !== '..', `${target} → ${once.path}`);
          assert.ok(segment !== '' || i === segments.length - 1, `${target} → ${once.path}`);
        }
        assert.deepEqual(normalisePath(once.path), once, `seed ${seed}: ${target} → ${once.path} is not stable`);
      }
    }
  });
});

describe('pathHasPrefix', () => {
  // [path, prefix, expected]
  const table: Array<[string, string, boolean]> = [
    ['/v1', '/v1', true],
    ['/v1/x', '/v1', true],
    ['/v1/', '/v1', true],
    ['/v10', '/v1', false],
    ['/v1x/y', '/v1', false],
    ['/v', '/v1', false],
    ['/v1', '/v1/', true],
    ['/v1/x/y', '/v1/', true],
    ['/v10', '/v1/', false],
    ['/anything', '/', true],
    ['/', '/', true],
    ['/admin', '/admin/', true],
    ['/administrator', '/admin', false],
    ['/api/v1/users', '/api/v1', true],
    ['/api/v1users', '/api/v1', false],
  ];
  for (const [path, prefix, expected] of table) {
    it(`${path} ${expected ? 'is' : 'is not'} under ${prefix}`, () => assert.equal(pathHasPrefix(path, prefix), expected));
  }
});
